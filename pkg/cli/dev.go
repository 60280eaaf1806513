package cli

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/manifest"
	_ "github.com/flintevents/flint/sources/builtin"  // every event source type
	_ "github.com/flintevents/flint/triggers/builtin" // every trigger type
)

func newDevCommand(streams IO) *cobra.Command {
	var (
		files      []string
		opts       dev.Options
		strict     bool
		cpuProfile string
		logs       = logFlags{level: "info"}
	)
	cmd := &cobra.Command{
		Use:   "dev -f PATH...",
		Short: "Run EventSources, Sensors and a JetStream broker in one process",
		Long: "dev runs Argo Events EventSources and Sensors, and Knative Broker and Trigger YAML, in one process: " +
			"an embedded NATS JetStream broker, every event source adapter storing CloudEvents in it, " +
			"and every sensor as a function the broker delivers to, through in-process calls " +
			"(--via-http: over loopback HTTP, as in a cluster). SIGINT or SIGTERM stops accepting events, " +
			"delivers those in flight (at most --drain-timeout) and exits 0; a restart with the same --data-dir " +
			"delivers what was pending. Without --data-dir the temporary store is deleted on exit only when " +
			"every accepted event was delivered; otherwise it is kept and its path logged.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return fmt.Errorf("-f: at least one file, directory or - is required")
			}
			set, problems := loadWith(cmd.Context(), manifest.Loader{Stdin: streams.In, Strict: strict}, files)
			warnUnknown(streams.Err, set)
			noteSkipped(streams.Err, set)
			if len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintln(streams.Err, p.String())
				}
				return exitError{code: 1}
			}
			logger, err := logs.newLogger(streams.Err)
			if err != nil {
				return err
			}
			defer func() { _ = logger.Sync() }()
			opts.Logger = logger
			if _, set := os.LookupEnv("GOGC"); !set {
				// A dev process holds little live memory: collecting less often
				// costs a few tens of MB and saves CPU and tail latency per event.
				debug.SetGCPercent(devGCPercent)
			}
			if _, set := os.LookupEnv("GOMAXPROCS"); !set {
				runtime.GOMAXPROCS(devProcs(runtime.GOMAXPROCS(0)))
			}
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			opts.Ready = func(ep dev.Endpoints) {
				fields := []zap.Field{zap.String("url", ep.Ingress)}
				if ep.Metrics != "" {
					fields = append(fields, zap.String("metrics", ep.Metrics))
				}
				if len(ep.Sources) > 0 {
					fields = append(fields, zap.Strings("sources", ep.Sources))
				}
				if ep.NATS != "" {
					fields = append(fields, zap.String("nats", ep.NATS))
				}
				logger.Info("broker ingress ready", fields...)
			}
			err = dev.Run(cmd.Context(), dev.ObjectsOf(set, nil), opts)
			var built dev.Problems
			if errors.As(err, &built) {
				// The same words as `flint validate`, without its "valid; ".
				errs, notRunnable := dev.Locate(set, built)
				for _, p := range append(errs, notRunnable...) {
					fmt.Fprintln(streams.Err, p.String())
				}
				return exitError{code: 1}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&files, "filename", "f", nil, "file, directory or - (stdin) to read; repeatable")
	f.StringVar(&opts.DataDir, "data-dir", "", "JetStream store directory (default: a temporary directory, removed on exit once every event was delivered)")
	f.BoolVar(&opts.ViaHTTP, "via-http", false, "wire sources to the broker ingress and the broker to the sensors over loopback HTTP, as in a cluster")
	f.DurationVar(&opts.DrainTimeout, "drain-timeout", 10*time.Second, "on stop, how long to wait for events in flight (without --data-dir: for every accepted event) to be delivered; deliveries still running then are cancelled")
	f.StringVar(&opts.NATSURL, "nats", "", "use this NATS server (with JetStream) instead of the embedded one; several comma-separated URLs of a cluster")
	f.IntVar(&opts.Broker.StreamReplicas, "stream-replicas", 0, "replicas of each broker stream and sensor state bucket, for --nats pointing at a clustered JetStream (default 1)")
	f.IntVar(&opts.NATSPort, "nats-port", 0, "let the embedded NATS server listen on 127.0.0.1:PORT (-1: random; 0: in-process only)")
	f.DurationVar(&opts.EvalTimeout, "eval-timeout", 0, "time limit of each evaluation of user code in sensors: Lua, jq, templates, expressions (default 500ms)")
	f.StringVar(&opts.Kubeconfig, "kubeconfig", "", "kubeconfig of the cluster resource sources watch and k8s/argoWorkflow triggers act on (default $KUBECONFIG)")
	f.StringVar(&opts.ListenHost, "listen-host", "127.0.0.1", "interface the event sources' ports bind")
	f.StringVar(&opts.BrokerAddr, "broker-addr", "127.0.0.1:8080", "broker ingress listen address")
	f.StringVar(&opts.SecretsDir, "secrets-dir", "", "directory of <secret>/<key> files for secret references (besides FLINT_SECRET_<NAME>_<KEY> variables)")
	f.BoolVar(&strict, "strict", false, strictUsage)
	f.StringVar(&opts.MetricsAddr, "metrics-addr", "127.0.0.1:0", "address of /metrics, /healthz and /readyz; off serves none")
	f.Int64Var(&opts.Broker.MaxEventSize, "max-event-size", 0, "largest event the broker accepts, in bytes (default 1 MiB)")
	f.Int64Var(&opts.Broker.MaxBytes, "max-store-bytes", 0, "cap of each broker's event store, in bytes; when full the webhook answers 503 until deliveries free space (default 1 GiB)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the whole run to this file")
	_ = f.MarkHidden("cpuprofile")
	logs.register(cmd)
	return cmd
}

// devGCPercent is the garbage collector target of flint dev unless GOGC says otherwise.
const devGCPercent = 400

// devProcs is how many processors flint dev runs Go code on unless GOMAXPROCS says
// otherwise: half of those it may use, at least one. An event crosses a chain of short
// hand-offs (webhook, JetStream, dispatcher, engine, trigger); waking another processor
// for each costs more than running them on one, and flint dev shares the machine with
// what sends and receives its events. On two cores, one processor cut the CPU per
// event by 10 to 30% at the same or a higher throughput, at the price of a longer
// tail: the p99 latency at 1,000 events/s went from about 4 to about 8 ms.
func devProcs(available int) int {
	return max(1, available/2)
}

// startCPUProfile profiles the process into path until the returned func runs.
func startCPUProfile(path string) (func(), error) {
	out, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return nil, fmt.Errorf("starting CPU profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = out.Close()
	}, nil
}
