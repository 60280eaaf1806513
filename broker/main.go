package broker

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/flintevents/flint/pkg/manifest/document"
	"github.com/flintevents/flint/pkg/manifest/knative"
	"github.com/flintevents/flint/pkg/natsd"
)

// DefaultAddr is where the ingress listens unless told otherwise.
const DefaultAddr = "127.0.0.1:8080"

// shutdownGrace bounds the wait for in-flight ingress requests on shutdown.
const shutdownGrace = 10 * time.Second

// Main runs the broker data plane as a process: it loads Brokers and Triggers from the
// -f files, connects to --nats (or starts an embedded JetStream in --data-dir), serves the
// ingress on --addr and dispatches until ctx is done.
func Main(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	natsURL := fs.String("nats", "", "NATS server URL; empty starts an embedded JetStream")
	dataDir := fs.String("data-dir", "", "JetStream store of the embedded server; empty means a temporary directory")
	addr := fs.String("addr", DefaultAddr, "address of the ingress")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	var files stringList
	fs.Var(&files, "f", "YAML file of Knative Brokers and Triggers (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(files) == 0 {
		return errors.New("no manifests: pass at least one -f file")
	}
	logger, err := newLogger(*logLevel, stderr)
	if err != nil {
		return err
	}
	defer func() { _ = logger.Sync() }()

	// Brokers and Triggers only: EventSources and Sensors are flint dev's, and
	// the broker links no Argo Events types.
	set, problems, err := knative.Load(ctx, document.Reader{}, files...)
	if err != nil {
		return fmt.Errorf("loading manifests: %w", err)
	}
	if len(problems) > 0 {
		return problems
	}
	nc, stopNATS, err := connect(*natsURL, *dataDir, logger)
	if err != nil {
		return err
	}
	defer stopNATS()
	dp, err := New(nc, Config{}, logger)
	if err != nil {
		return err
	}
	if err := dp.Apply(ctx, set.Brokers, set.Triggers); err != nil {
		return fmt.Errorf("applying manifests: %w", err)
	}
	return serve(ctx, dp, *addr, logger)
}

// serve runs the ingress and the dispatcher until ctx is done, then stops both.
func serve(ctx context.Context, dp *DataPlane, addr string, logger *zap.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: dp.Ingress(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	ran := make(chan error, 1)
	go func() { ran <- dp.Run(runCtx) }()
	logger.Info("broker ingress listening", zap.String("addr", ln.Addr().String()))

	var serveErr error
	stopped := false
	select {
	case <-ctx.Done():
	case serveErr = <-served:
		stopped = true
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("shutting down ingress", zap.Error(err))
	}
	if !stopped {
		serveErr = <-served
	}
	stopRun()
	runErr := <-ran
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serving ingress: %w", serveErr)
	}
	return runErr
}

// connect dials url, or starts an embedded server when url is empty; the returned func
// closes the connection and stops the embedded server.
func connect(url, dataDir string, logger *zap.Logger) (*nats.Conn, func(), error) {
	opts := []nats.Option{nats.Name("flint-broker"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { logger.Warn("nats disconnected", zap.Error(err)) }),
		nats.ReconnectHandler(func(nc *nats.Conn) { logger.Info("nats reconnected", zap.String("url", nc.ConnectedUrl())) })}
	if url != "" {
		nc, err := nats.Connect(url, opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("connecting to %s: %w", url, err)
		}
		return nc, nc.Close, nil
	}
	srv, err := natsd.Start(natsd.Options{StoreDir: dataDir})
	if err != nil {
		return nil, nil, err
	}
	nc, err := srv.Connect(opts...)
	if err != nil {
		srv.Shutdown()
		return nil, nil, err
	}
	logger.Info("embedded JetStream started", zap.String("storeDir", srv.StoreDir()))
	return nc, func() { nc.Close(); srv.Shutdown() }, nil
}

func newLogger(level string, w io.Writer) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("parsing --log-level: %w", err)
	}
	enc := zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), lvl)), nil
}

// stringList is a repeatable string flag.
type stringList []string

// String implements flag.Value.
func (s *stringList) String() string { return strings.Join(*s, ",") }

// Set implements flag.Value.
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}
