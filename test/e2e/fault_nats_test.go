package e2e

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/natsd"
)

// TestFaultNATSRestartMidBurst runs flint dev on an external JetStream
// server (--nats) and restarts that server, on the same store, in the middle
// of a burst: the webhook holds a request while the server is down, answers
// 200 once the event is stored and 503 or 504 when it could not confirm it
// in time, and every event it accepted is delivered once the server is back.
func TestFaultNATSRestartMidBurst(t *testing.T) {
	t.Parallel()
	store := t.TempDir()
	srv, err := natsd.Start(natsd.Options{StoreDir: store, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	current := srv
	t.Cleanup(func() { current.Shutdown() })

	f := newFaultRun(t, 0)
	dev := f.start(t, nil, "--nats", srv.ClientURL())
	restarted := make(chan struct{})
	b := runBurst(f.hook, "nats", 200, 60, func() {
		defer close(restarted)
		current.Shutdown()
		time.Sleep(time.Second)
		again, err := natsd.Start(natsd.Options{StoreDir: store, Port: port})
		if err != nil {
			t.Errorf("restarting the NATS server: %v", err)
			return
		}
		current = again
	})
	<-restarted
	f.rc.waitAll(t, dev, b.accepted, settle)
	f.report(t, b, 0, 0)
}
