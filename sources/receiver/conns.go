package receiver

import (
	"net"
	"net/http"
	"sync"
)

// unstarted tracks the connections of a server that have not sent a request
// yet. http.Server.Shutdown waits up to five seconds for such a connection
// before it counts as idle; a load generator or a proxy that opened spare
// connections would hold a stop that long. On stop they are closed at once:
// they carry no request, so nothing is lost.
type unstarted struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// track is an http.Server ConnState hook.
func (u *unstarted) track(c net.Conn, state http.ConnState) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if state == http.StateNew {
		if u.conns == nil {
			u.conns = map[net.Conn]struct{}{}
		}
		u.conns[c] = struct{}{}
		return
	}
	delete(u.conns, c)
}

// close closes every connection that has not sent a request.
func (u *unstarted) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for c := range u.conns {
		_ = c.Close()
	}
	clear(u.conns)
}
