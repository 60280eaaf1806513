// Package natsd runs an embedded NATS server with JetStream for flint dev and tests.
package natsd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
)

// DefaultHost is the interface the server binds when Options.Host is empty.
const DefaultHost = "127.0.0.1"

// reservedPort is the well-known NATS port; a developer's own server often holds it.
const reservedPort = 4222

// readyTimeout bounds how long Start waits for the server to accept connections.
const readyTimeout = 10 * time.Second

// ErrReservedPort is returned when asked to listen on 4222, the port of a developer's own NATS.
var ErrReservedPort = errors.New("port 4222 is reserved for a developer's own NATS server")

// Options configures an embedded server.
type Options struct {
	// StoreDir holds the JetStream store; empty means a temporary directory removed on Shutdown.
	StoreDir string
	// Port is the client port: 0 means no TCP listener (in-process connections only),
	// -1 a random loopback port, anything else that port.
	Port int
	// Host is the interface to bind when Port is not 0; default 127.0.0.1.
	Host string
	// MaxPayload is the largest message the server accepts; default 8 MiB.
	MaxPayload int32
	// MaxStore caps the JetStream file store in bytes; 0 means 75 % of the free disk
	// space. A full store refuses new events; it never drops stored ones.
	MaxStore int64
	// Logger receives the server's warnings and errors, among them what it found
	// damaged in the store when it recovered it; nil logs nothing.
	Logger *zap.Logger
	// OnLoss, when set, is told of each consumer the server found handed
	// messages its recovered stream lost, before Start returns.
	OnLoss func(Loss)
}

// Server is a running embedded NATS server with JetStream enabled.
type Server struct {
	ns       *server.Server
	storeDir string
	tempDir  bool
	port     int
	url      string
	stop     sync.Once
}

// Start launches a server with JetStream and waits until it accepts connections.
func Start(opts Options) (*Server, error) {
	if opts.Port == reservedPort {
		return nil, ErrReservedPort
	}
	s := &Server{storeDir: opts.StoreDir}
	if s.storeDir == "" {
		dir, err := os.MkdirTemp("", "flint-jetstream-")
		if err != nil {
			return nil, fmt.Errorf("creating store dir: %w", err)
		}
		s.storeDir, s.tempDir = dir, true
	}
	sopts := &server.Options{
		ServerName:        "flint",
		Host:              opts.Host,
		Port:              opts.Port,
		JetStream:         true,
		StoreDir:          s.storeDir,
		MaxPayload:        opts.MaxPayload,
		JetStreamMaxStore: opts.MaxStore,
		NoLog:             true,
		NoSigs:            true,
	}
	if sopts.Host == "" {
		sopts.Host = DefaultHost
	}
	if sopts.MaxPayload == 0 {
		sopts.MaxPayload = 8 << 20
	}
	if opts.Port == 0 {
		// nats-server reads port 0 as "the default port"; ask for a random one and do not bind it.
		sopts.Port = server.RANDOM_PORT
		sopts.DontListen = true
	}
	ns, err := server.NewServer(sopts)
	if err != nil {
		s.cleanup()
		return nil, fmt.Errorf("creating nats server: %w", err)
	}
	if opts.Logger != nil || opts.OnLoss != nil {
		setLogger(ns, opts.Logger, opts.OnLoss)
	}
	go ns.Start()
	if !ns.ReadyForConnections(readyTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		s.cleanup()
		return nil, fmt.Errorf("starting nats server: not ready after %s", readyTimeout)
	}
	s.ns = ns
	if opts.Port != 0 {
		if addr, ok := ns.Addr().(*net.TCPAddr); ok {
			s.port = addr.Port
			s.url = "nats://" + net.JoinHostPort(addr.IP.String(), strconv.Itoa(addr.Port))
		}
	}
	return s, nil
}

// Connect opens a client connection: in-process when the server has no TCP port, over
// loopback TCP otherwise. opts come after flint's defaults (unlimited reconnects).
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	all := []nats.Option{nats.MaxReconnects(-1), nats.Name("flint")}
	url := s.ClientURL()
	if url == "" {
		all = append(all, nats.InProcessServer(s.ns))
	}
	nc, err := nats.Connect(url, append(all, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("connecting to embedded nats: %w", err)
	}
	return nc, nil
}

// ClientURL is the nats:// URL of the TCP listener, empty when the server has none.
func (s *Server) ClientURL() string { return s.url }

// Port is the TCP port the server listens on, 0 when it has none.
func (s *Server) Port() int { return s.port }

// StoreDir is the directory that holds the JetStream store.
func (s *Server) StoreDir() string { return s.storeDir }

// NATSServer exposes the underlying nats-server for inspection in tests.
func (s *Server) NATSServer() *server.Server { return s.ns }

// Shutdown stops the server and waits until it has stopped; a temporary store is removed.
// It is safe to call more than once.
func (s *Server) Shutdown() {
	s.stop.Do(func() {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		s.cleanup()
	})
}

func (s *Server) cleanup() {
	if s.tempDir {
		_ = os.RemoveAll(s.storeDir)
	}
}
