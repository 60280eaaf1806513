package controller

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"knative.dev/pkg/logging"

	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/pkg/kube"
	"github.com/flintevents/flint/pkg/metrics"
)

// DefaultIngressHost is the broker ingress Service that config/ installs.
const DefaultIngressHost = "broker-ingress.flint-system.svc.cluster.local"

// probeShutdown bounds the wait for the probe server to stop.
const probeShutdown = 5 * time.Second

// Main runs the broker controller as a process until ctx is done: it reads the cluster of
// --kubeconfig (else $KUBECONFIG, else the pod's service account), keeps broker streams
// on the JetStream at --nats and serves /healthz and /readyz on --probe-addr.
func Main(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("controller", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file; empty means $KUBECONFIG, else the pod's service account")
	natsURL := fs.String("nats", "", "URL of the NATS server with JetStream that holds broker streams (required)")
	var opts Options
	fs.StringVar(&opts.IngressHost, "ingress-host", DefaultIngressHost, "host[:port] of the broker ingress, the host of every broker's status.address.url")
	fs.IntVar(&opts.StreamReplicas, "stream-replicas", 0, "replicas of each broker stream in a clustered JetStream (default 1)")
	fs.DurationVar(&opts.MaxAge, "stream-max-age", 0, "how long a broker stream keeps events that no trigger took yet (default: until delivered or dead-lettered)")
	fs.DurationVar(&opts.DuplicateWindow, "duplicate-window", 0, "how long a re-sent event is stored only once (default 2m)")
	fs.Int64Var(&opts.MaxBytes, "stream-max-bytes", 0, "size cap of each broker stream; when full the ingress answers 503 (default 1 GiB, -1 for none)")
	fs.StringVar(&opts.Namespace, "namespace", "", "reconcile one namespace only; empty means all")
	fs.StringVar(&opts.ClusterDomain, "cluster-domain", DefaultClusterDomain, "DNS domain of the cluster's Services, the suffix of a Service subscriber's address")
	leaderElect := fs.Bool("leader-elect", false, "run as one of several replicas: reconcile only while holding the Lease --lease-namespace/--lease-name")
	var election Election
	fs.StringVar(&election.Namespace, "lease-namespace", envOr("POD_NAMESPACE", "flint-system"), "namespace of the leader election Lease (env POD_NAMESPACE)")
	fs.StringVar(&election.Name, "lease-name", "flint-broker-controller", "name of the leader election Lease")
	fs.StringVar(&election.Identity, "identity", envOr("POD_NAME", hostname()), "this replica's name in the Lease (env POD_NAME, else the host name)")
	probeAddr := fs.String("probe-addr", ":8080", "address of the /healthz and /readyz probes and /metrics; empty serves none")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *natsURL == "" {
		return errors.New("--nats: required")
	}
	lvl, err := zapcore.ParseLevel(*logLevel)
	if err != nil {
		return fmt.Errorf("parsing --log-level: %w", err)
	}
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(stderr), lvl))
	defer func() { _ = logger.Sync() }()
	ctx = logging.WithLogger(ctx, logger.Sugar())
	kube.LogTo(logger.Named("kubernetes"))

	cfg, ok, err := kube.LoadConfig(*kubeconfig)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("no kubeconfig and not running in a cluster")
	}
	nc, err := nats.Connect(*natsURL, nats.Name("flint-broker-controller"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { logger.Warn("nats disconnected", zap.Error(err)) }))
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", bus.Redacted(*natsURL), err)
	}
	defer nc.Close()
	if opts.JetStream, err = jetstream.New(nc); err != nil {
		return fmt.Errorf("connecting to JetStream: %w", err)
	}

	clients, err := kube.New(cfg)
	if err != nil {
		return err
	}
	stopProbes, err := serveProbes(*probeAddr, logger)
	if err != nil {
		return err
	}
	defer stopProbes()
	logger.Info("broker controller starting", zap.String("ingressHost", opts.IngressHost), zap.String("nats", bus.Redacted(*natsURL)),
		zap.Bool("leaderElect", *leaderElect))
	if *leaderElect {
		return RunElected(ctx, clients, opts, election)
	}
	return Run(ctx, clients, opts)
}

// envOr is the environment variable key, or def when it is empty.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// hostname is the host's name, or "" when it cannot be read.
func hostname() string {
	h, _ := os.Hostname()
	return h
}

// serveProbes answers /healthz, /readyz and /metrics (the process's runtime
// metrics) on addr until the returned func is called.
func serveProbes(addr string, logger *zap.Logger) (func(), error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	metrics.New().Mount(mux, nil)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second,
		WriteTimeout: 5 * time.Second, MaxHeaderBytes: 16 << 10}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("serving probes", zap.Error(err))
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), probeShutdown)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}
