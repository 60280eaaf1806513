// Package natsdtest runs flint's embedded JetStream server for tests: one
// helper starts it with its store in the test's temporary directory and stops
// it when the test ends, another hands out connections closed at the same time.
package natsdtest

import (
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/flintevents/flint/pkg/natsd"
)

// Run starts a JetStream server on a random loopback port with its store in
// t.TempDir(); it shuts down when the test ends.
func Run(t testing.TB) *natsd.Server {
	t.Helper()
	return RunWith(t, natsd.Options{Port: -1})
}

// RunWith starts a JetStream server with opts, its store in t.TempDir() when
// opts.StoreDir is empty; it shuts down when the test ends. Port 0 means
// in-process connections only, as flint dev runs it.
func RunWith(t testing.TB, opts natsd.Options) *natsd.Server {
	t.Helper()
	if opts.StoreDir == "" {
		opts.StoreDir = t.TempDir()
	}
	s, err := natsd.Start(opts)
	if err != nil {
		t.Fatalf("starting nats server: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// Connect starts a server as Run does and returns a connection to it, ready
// for jetstream.New; the connection closes when the test ends.
func Connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	return ConnectTo(t, Run(t), opts...)
}

// ConnectTo returns a connection to s, closed when the test ends.
func ConnectTo(t testing.TB, s *natsd.Server, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := s.Connect(opts...)
	if err != nil {
		t.Fatalf("connecting to nats server: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}
