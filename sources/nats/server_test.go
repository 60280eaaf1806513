package nats_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/freeport"
	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// natsServer is an in-process nats-server on a loopback port of its own,
// which a test may stop and start again on the same port.
type natsServer struct {
	opts server.Options
	srv  *server.Server
	base uint32 // the server's own subscriptions
}

// startServer starts a server with opts (its host and port chosen here);
// it shuts down when the test ends.
func startServer(t testing.TB, opts server.Options) *natsServer {
	t.Helper()
	opts.Port = freeport.Port(t)
	opts.Host = "127.0.0.1"
	opts.NoLog, opts.NoSigs = true, true
	s := &natsServer{opts: opts}
	s.start(t)
	t.Cleanup(func() {
		if s.srv != nil {
			s.srv.Shutdown()
		}
	})
	return s
}

func (s *natsServer) start(t testing.TB) {
	t.Helper()
	opts := s.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready in 10s")
	}
	s.srv = srv
	s.base = srv.NumSubscriptions()
}

// restart stops the server abruptly and starts it again on the same port.
func (s *natsServer) restart(t testing.TB) {
	t.Helper()
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
	s.srv = nil
	s.start(t)
}

// URL is the server's client URL.
func (s *natsServer) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.opts.Port) }

// waitSubscribed waits until the server holds n client subscriptions.
func (s *natsServer) waitSubscribed(t testing.TB, n uint32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.srv.NumSubscriptions()-s.base < n {
		if time.Now().After(deadline) {
			t.Fatalf("the server holds %d client subscriptions after 10s, want %d", s.srv.NumSubscriptions()-s.base, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// connect is a publishing client, closed when the test ends.
func (s *natsServer) connect(t testing.TB, opts ...natsgo.Option) *natsgo.Conn {
	t.Helper()
	nc, err := natsgo.Connect(s.URL(), opts...)
	if err != nil {
		t.Fatalf("connecting to %s: %v", s.URL(), err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// waitSubscriptions waits until the server holds exactly n client
// subscriptions.
func (s *natsServer) waitSubscriptions(t testing.TB, n uint32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.srv.NumSubscriptions()-s.base != n {
		if time.Now().After(deadline) {
			t.Fatalf("the server holds %d client subscriptions after 10s, want %d", s.srv.NumSubscriptions()-s.base, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
