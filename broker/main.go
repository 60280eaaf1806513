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
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/net/netutil"
	"k8s.io/client-go/dynamic"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"

	"github.com/flintevents/flint/broker/controller/dataplane"
	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/pkg/kube"
	"github.com/flintevents/flint/pkg/manifest/document"
	"github.com/flintevents/flint/pkg/manifest/knative"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/pkg/natsd"
)

// DefaultAddr is where the ingress listens unless told otherwise.
const DefaultAddr = "127.0.0.1:8080"

// maxIngressConns is how many connections the ingress serves at once.
const maxIngressConns = 4096

// shutdownGrace bounds the wait for in-flight ingress requests on shutdown.
const shutdownGrace = 10 * time.Second

// Roles of a data-plane process (--role).
const (
	// RoleAll runs the ingress and the dispatcher.
	RoleAll = "all"
	// RoleIngress runs the ingress only; it leaves trigger consumers to a dispatcher.
	RoleIngress = "ingress"
	// RoleDispatcher runs the dispatcher only; --addr then serves health probes alone.
	RoleDispatcher = "dispatcher"
)

// Flags are the settings of a data-plane process, as its command line gives them.
type Flags struct {
	// NATSURL is the NATS server to use; empty starts an embedded JetStream.
	NATSURL string
	// DataDir is the store of the embedded JetStream; empty means a temporary directory.
	DataDir string
	// Addr is the address of the ingress and the probes.
	Addr string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// Cluster follows the Brokers and Triggers of a cluster instead of Files.
	Cluster bool
	// Kubeconfig is the kubeconfig of Cluster; empty means $KUBECONFIG, else the pod's service account.
	Kubeconfig string
	// Namespace, with Cluster, follows one namespace only; empty means all.
	Namespace string
	// Role is what the process runs: RoleAll, RoleIngress or RoleDispatcher.
	Role string
	// Files are the YAML files of Knative Brokers and Triggers.
	Files []string
	// Config tunes the data plane.
	Config Config
}

// Register adds the flags of a data-plane process to fs, bound to f and
// with their defaults; -f takes the files.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.NATSURL, "nats", "", "NATS server URL; empty starts an embedded JetStream")
	fs.StringVar(&f.DataDir, "data-dir", "", "JetStream store of the embedded server; empty means a temporary directory")
	fs.StringVar(&f.Addr, "addr", DefaultAddr, "address of the ingress")
	fs.StringVar(&f.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&f.Cluster, "cluster", false, "follow the Brokers (class "+dataplane.Class+") and Triggers of a cluster instead of -f files")
	fs.StringVar(&f.Kubeconfig, "kubeconfig", "", "kubeconfig of --cluster; empty means $KUBECONFIG, else the pod's service account")
	fs.StringVar(&f.Namespace, "namespace", "", "with --cluster, follow one namespace only; empty means all")
	fs.StringVar(&f.Role, "role", RoleAll, "what this process runs: all, ingress or dispatcher")
	fs.IntVar(&f.Config.StreamReplicas, "stream-replicas", 0, "replicas of each broker stream in a clustered JetStream (default 1)")
	fs.DurationVar(&f.Config.MaxAge, "stream-max-age", 0, "remove events older than this even if undelivered (default: keep until delivered or dead-lettered)")
	fs.Int64Var(&f.Config.MaxBytes, "stream-max-bytes", 0, "size cap of each broker stream; when full the ingress answers 503 (default 1 GiB, -1 for none)")
	fs.IntVar(&f.Config.Concurrency, "concurrency", 0, "deliveries in flight per trigger in this process (default 100)")
	fs.DurationVar(&f.Config.AckWait, "ack-wait", 0, "how soon events in flight in a crashed dispatcher are redelivered (default 8s)")
	fs.DurationVar(&f.Config.MaxBackoff, "max-backoff", 0, "cap of the backoff between retries of a trigger (default 1m)")
	fs.DurationVar(&f.Config.DuplicateWindow, "duplicate-window", 0, "how long a re-sent event is stored only once (default 2m)")
	fs.Var((*stringList)(&f.Files), "f", "YAML file of Knative Brokers and Triggers (repeatable)")
}

// Main runs the broker data plane as a process: it parses args as Register
// defines them and runs what they say (Run).
func Main(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f Flags
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	return Run(ctx, f, stderr)
}

// Run runs the broker data plane: it loads Brokers and Triggers from f.Files,
// or with f.Cluster follows those of a cluster through informers, connects to
// f.NATSURL (or starts an embedded JetStream in f.DataDir), serves the ingress
// and the /healthz and /readyz probes on f.Addr and dispatches until ctx is
// done. It logs to stderr.
func Run(ctx context.Context, f Flags, stderr io.Writer) error {
	switch {
	case f.Role != RoleAll && f.Role != RoleIngress && f.Role != RoleDispatcher:
		return fmt.Errorf("--role %q: must be all, ingress or dispatcher", f.Role)
	case f.Cluster && len(f.Files) > 0:
		return errors.New("--cluster and -f exclude each other")
	case !f.Cluster && len(f.Files) == 0:
		return errors.New("no manifests: pass at least one -f file, or --cluster")
	}
	cfg := f.Config
	cfg.IngressOnly = f.Role == RoleIngress
	// In a cluster the broker controller writes the streams' settings.
	cfg.StreamsOwnedElsewhere = f.Cluster
	reg := metrics.New()
	cfg.Metrics = reg.Broker
	logger, err := newLogger(f.LogLevel, stderr)
	if err != nil {
		return err
	}
	defer func() { _ = logger.Sync() }()
	if f.Cluster {
		return mainCluster(ctx, f, cfg, reg, logger)
	}

	// Brokers and Triggers only: EventSources and Sensors are flint dev's, and
	// the broker links no Argo Events types.
	set, problems, err := knative.Load(ctx, document.Reader{}, f.Files...)
	if err != nil {
		return fmt.Errorf("loading manifests: %w", err)
	}
	if len(problems) > 0 {
		return problems
	}
	nc, stopNATS, err := connect(f.NATSURL, f.DataDir, logger)
	if err != nil {
		return err
	}
	defer stopNATS()
	dp, err := New(nc, cfg, logger)
	if err != nil {
		return err
	}
	if err := dp.Apply(ctx, set.Brokers, set.Triggers); err != nil {
		return fmt.Errorf("applying manifests: %w", err)
	}
	var ready atomic.Bool
	ready.Store(true)
	return serve(ctx, dp, f.Addr, f.Role, &ready, reg, logger)
}

// mainCluster runs the data plane on the Brokers and Triggers of a cluster, applying
// them after every change; /readyz answers 200 once they were applied.
func mainCluster(ctx context.Context, f Flags, cfg Config, reg *metrics.Registry, logger *zap.Logger) error {
	kube.LogTo(logger.Named("kubernetes"))
	restCfg, ok, err := kube.LoadConfig(f.Kubeconfig)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("--cluster: no kubeconfig and not running in a cluster")
	}
	client, err := dynamic.NewForConfig(restCfg)
	if err != nil {
		return fmt.Errorf("building cluster client: %w", err)
	}
	nc, stopNATS, err := connect(f.NATSURL, f.DataDir, logger)
	if err != nil {
		return err
	}
	defer stopNATS()
	dp, err := New(nc, cfg, logger)
	if err != nil {
		return err
	}
	apply := func(ctx context.Context, brokers []*eventingv1.Broker, triggers []*eventingv1.Trigger) error {
		refused, err := dp.ApplyValid(ctx, brokers, triggers)
		if refused != nil {
			logger.Info("leaving out brokers and triggers the data plane cannot serve", zap.Error(refused))
		}
		return err
	}
	var ready atomic.Bool
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watched := make(chan error, 1)
	go func() {
		watched <- dataplane.Watch(watchCtx, client, apply, dataplane.Options{
			Namespace: f.Namespace,
			Applied:   func() { ready.Store(true) },
			Logger:    logger.Named("watch"),
		})
	}()
	serveErr := serve(ctx, dp, f.Addr, f.Role, &ready, reg, logger)
	stopWatch()
	if err := <-watched; err != nil && serveErr == nil {
		serveErr = err
	}
	return serveErr
}

// serve runs the ingress (unless role is dispatcher) with the probes and the
// registry's /metrics, and the dispatcher, until ctx is done, then stops both.
func serve(ctx context.Context, dp *DataPlane, addr, role string, ready *atomic.Bool, reg *metrics.Registry, logger *zap.Logger) error {
	bound, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	// More connections than this wait in the accept queue rather than take
	// file descriptors; slow clients are cut off by the read timeout.
	ln := netutil.LimitListener(bound, maxIngressConns)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "brokers and triggers not applied yet", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", reg.Handler())
	if role != RoleDispatcher {
		mux.Handle("/", dp.Ingress())
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 1 << 20}
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
		nats.ReconnectHandler(func(nc *nats.Conn) { logger.Info("nats reconnected", zap.String("url", nc.ConnectedUrlRedacted())) })}
	if url != "" {
		nc, err := nats.Connect(url, opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("connecting to %s: %w", bus.Redacted(url), err)
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

// Type names the kind of value in command-line help: a repeatable string,
// which is what a stringArray flag is in the flint command.
func (s *stringList) Type() string { return "stringArray" }

// String implements flag.Value.
func (s *stringList) String() string { return strings.Join(*s, ",") }

// Set implements flag.Value.
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}
