package receiver

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// slots admits at most max connections of a port at once. When all are taken,
// a new connection takes the slot of the one doing the least, so slow clients
// cannot keep new ones out: first the connection waiting longest for a
// request (a client that sent no request yet, or a keep-alive one between
// requests), which is closed; else the body reader with the lowest rate, whose
// read is cut and answered 408. A connection younger than evictAfter, or
// whose handler is past reading its body, is never taken; when every slot is
// such a one, the new connection waits for a slot to free.
type slots struct {
	net.Listener
	max        int
	evictAfter time.Duration

	mu    sync.Mutex
	conns map[*slotConn]struct{} // holding a slot
	freed chan struct{}          // a slot freed; capacity 1
	done  chan struct{}          // closed by Close
	once  sync.Once
}

func newSlots(ln net.Listener, max int, evictAfter time.Duration) *slots {
	return &slots{
		Listener:   ln,
		max:        max,
		evictAfter: evictAfter,
		conns:      map[*slotConn]struct{}{},
		freed:      make(chan struct{}, 1),
		done:       make(chan struct{}),
	}
}

// Accept accepts a connection and gives it a slot, taking one from another
// connection or waiting for one when all are taken.
func (s *slots) Accept() (net.Conn, error) {
	c, err := s.Listener.Accept()
	if err != nil {
		return nil, err
	}
	sc := &slotConn{Conn: c, s: s, since: time.Now()}
	for {
		s.mu.Lock()
		if len(s.conns) < s.max {
			s.conns[sc] = struct{}{}
			s.mu.Unlock()
			return sc, nil
		}
		victim := s.victim(time.Now())
		if victim != nil {
			delete(s.conns, victim)
			s.conns[sc] = struct{}{}
			s.mu.Unlock()
			victim.evict()
			return sc, nil
		}
		s.mu.Unlock()
		t := time.NewTimer(s.evictAfter / 4)
		select {
		case <-s.freed:
		case <-t.C:
		case <-s.done:
			t.Stop()
			_ = c.Close()
			return nil, net.ErrClosed
		}
		t.Stop()
	}
}

// victim is the connection to give up its slot, or nil; s.mu is held.
func (s *slots) victim(now time.Time) *slotConn {
	var idle, slow *slotConn
	var idleSince time.Time
	var slowRate float64
	for c := range s.conns {
		c.mu.Lock()
		ph, since, read := c.phase, c.since, c.read
		c.mu.Unlock()
		age := now.Sub(since)
		if age < s.evictAfter {
			continue
		}
		switch ph {
		case waiting:
			if idle == nil || since.Before(idleSince) {
				idle, idleSince = c, since
			}
		case reading:
			if rate := float64(read) / age.Seconds(); slow == nil || rate < slowRate {
				slow, slowRate = c, rate
			}
		}
	}
	if idle != nil {
		return idle
	}
	return slow
}

// release frees c's slot, if it still holds one.
func (s *slots) release(c *slotConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	select {
	case s.freed <- struct{}{}:
	default:
	}
}

// Close stops accepting; connections already accepted stay open.
func (s *slots) Close() error {
	s.once.Do(func() { close(s.done) })
	return s.Listener.Close()
}

// phase is what a connection is doing, as far as giving up its slot goes.
type phase int

const (
	// waiting: no request is being served (a new connection, or a keep-alive
	// one between requests); it may be closed.
	waiting phase = iota
	// reading: a handler is reading the request body; the read may be cut.
	reading
	// working: a handler is serving a request and not reading its body.
	working
)

// slotConn is a connection holding a slot.
type slotConn struct {
	net.Conn
	s *slots

	mu      sync.Mutex // guards the fields below and read deadlines set for the body
	phase   phase
	since   time.Time // start of the phase
	read    int64     // body bytes read in the reading phase
	evicted bool
}

// Close closes the connection and frees its slot.
func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.s.release(c)
	return err
}

// to moves c to phase p (a connection that was evicted stays so).
func (c *slotConn) to(p phase) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.phase, c.since, c.read = p, time.Now(), 0
}

// evict ends what c is doing: a waiting connection is closed, a body read is
// cut (its reader answers 408).
func (c *slotConn) evict() {
	c.mu.Lock()
	c.evicted = true
	ph := c.phase
	if ph == reading {
		_ = c.Conn.SetReadDeadline(time.Now())
	}
	c.mu.Unlock()
	if ph != reading {
		_ = c.Conn.Close()
	}
}

// beginRead starts a body read that must end by deadline; false when c was
// evicted.
func (c *slotConn) beginRead(deadline time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.evicted {
		return false
	}
	if c.phase != reading {
		c.phase, c.since, c.read = reading, time.Now(), 0
	}
	_ = c.Conn.SetReadDeadline(deadline)
	return true
}

// endRead records n body bytes read; with done, the body is read through and
// the read deadline goes back to limit.
func (c *slotConn) endRead(n int, done bool, limit time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.read += int64(n)
	if done && !c.evicted {
		c.phase, c.since = working, time.Now()
		_ = c.Conn.SetReadDeadline(limit)
	}
}

// connKey is the context key of a request's *slotConn.
type connKey struct{}

// withConn is an http.Server ConnContext hook: it makes a connection's
// *slotConn reachable from its requests.
func withConn(ctx context.Context, c net.Conn) context.Context {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	if sc, ok := c.(*slotConn); ok {
		return context.WithValue(ctx, connKey{}, sc)
	}
	return ctx
}

// connOf is the *slotConn a request arrived on, or nil.
func connOf(ctx context.Context) *slotConn {
	sc, _ := ctx.Value(connKey{}).(*slotConn)
	return sc
}
