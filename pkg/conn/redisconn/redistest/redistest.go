// Package redistest starts a real redis-server for a test, on a free port of
// 127.0.0.1 with its data in the test's temporary directory, appending every
// write to its AOF so that a Restart keeps what it held.
package redistest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/freeport"
	"github.com/redis/go-redis/v9"
)

// Binary is the redis-server Start runs (Debian's package).
const Binary = "/usr/bin/redis-server"

// startTimeout bounds how long the server may take to answer PING.
const startTimeout = 10 * time.Second

// Server is a running redis-server.
type Server struct {
	// Addr is host:port.
	Addr string
	// Password is the `--requirepass` password; "" for none.
	Password string

	// TLS says the server speaks only TLS (StartTLS).
	TLS bool

	port int
	dir  string
	cmd  *exec.Cmd
	done chan error
}

// Start runs redis-server for t (with password as `--requirepass` when not
// empty) and stops it when t ends. Without the binary it fails t when the
// CI environment variable is true, and skips it, saying so, otherwise.
func Start(t testing.TB, password string) *Server {
	t.Helper()
	return startServer(t, password, nil, nil)
}

// StartTLS is Start for a server that speaks only TLS, with the PEM key
// pair given, and takes clients without certificates.
func StartTLS(t testing.TB, certPEM, keyPEM []byte) *Server {
	t.Helper()
	return startServer(t, "", certPEM, keyPEM)
}

func startServer(t testing.TB, password string, certPEM, keyPEM []byte) *Server {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server is needed and absent (%v); install Debian's redis-server", err)
		}
		t.Skipf("SKIPPED: redis-server is absent (%v); install Debian's redis-server to run this test", err)
	}
	port := freeport.Port(t)
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Password: password, port: port, dir: t.TempDir()}
	if certPEM != nil {
		s.TLS = true
		for name, b := range map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM} {
			if err := os.WriteFile(filepath.Join(s.dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.start(t)
	t.Cleanup(func() { s.Stop(t) })
	return s
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	args := []string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "yes", "--appendfsync", "always", "--dir", s.dir, "--logfile", "redis.log"}
	if s.TLS {
		args = append(args, "--port", "0", "--tls-port", strconv.Itoa(s.port),
			"--tls-cert-file", filepath.Join(s.dir, "tls.crt"), "--tls-key-file", filepath.Join(s.dir, "tls.key"),
			"--tls-auth-clients", "no")
	}
	if s.Password != "" {
		args = append(args, "--requirepass", s.Password)
	}
	cmd := exec.Command(Binary, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	s.cmd, s.done = cmd, make(chan error, 1)
	go func() { s.done <- cmd.Wait() }()
	c := s.Client()
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		select {
		case werr := <-s.done:
			log, _ := os.ReadFile(s.dir + "/redis.log")
			t.Fatalf("redis-server exited at start: %v\n%s", werr, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not answer in %v: %v", startTimeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Client is a client of the server, authenticated when it has a password,
// over TLS without checking the certificate when it speaks TLS.
func (s *Server) Client() *redis.Client {
	o := &redis.Options{Addr: s.Addr, Password: s.Password, Protocol: 2, DisableIdentity: true}
	if s.TLS {
		o.TLSConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // a test's own server.
	}
	return redis.NewClient(o)
}

// Stop stops the server with SIGTERM (it writes out its AOF first) and waits
// for it to exit; stopping a stopped server does nothing.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.cmd == nil {
		return
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("stopping redis-server: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Restart starts a stopped server again on the same port and data.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if s.cmd != nil {
		t.Fatal(fmt.Sprintf("redis-server on %s is still running", s.Addr))
	}
	s.start(t)
}
