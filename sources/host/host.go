// Package host runs one event source type of one EventSource as the main of
// its image: it loads the EventSource through pkg/manifest/argo (strict
// decoding, defaults, validation, as `flint validate`), builds the type with
// a shared push receiver, runs receiver and source, stamps every event into a
// CloudEvent and posts it to K_SINK; with FLINT_HOOKS it only registers or
// removes the type's managed hooks. `flint dev` uses Stamp to wire sources to
// its in-process broker, and DevHooks to manage their hooks itself.
package host

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/manifest/argo"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/receiver"
	"github.com/flintevents/flint/sources/sink"
)

// Environment variables Main reads besides K_SINK and K_CA_CERTS (see sink.FromGetenv).
const (
	EnvEventSourceFile   = "EVENTSOURCE_FILE"   // path of the EventSource YAML
	EnvEventSourceObject = "EVENTSOURCE_OBJECT" // the EventSource YAML inline, or its base64
	EnvSecretsDir        = "FLINT_SECRETS_DIR"  // <dir>/<secret>/<key> files for secret refs
	EnvLogLevel          = "LOG_LEVEL"          // debug, info (default), warn, error
	EnvCEOverrides       = "K_CE_OVERRIDES"     // {"extensions":{…}} added to every event
	EnvPort              = "PORT"               // the port Knative routes to and probes; every push route is served there
	EnvEventNames        = "FLINT_EVENT_NAMES"  // comma-separated entries of the type to run; all when empty
	EnvKubeconfig        = "KUBECONFIG"         // kubeconfig of the cluster sources watch
	EnvDrain             = "FLINT_DRAIN"        // a duration: drain a pull source's backlog for at most this long, then exit
	EnvWake              = "FLINT_WAKE"         // a duration: run a pull source only on wake requests to WakePath, each draining for at most this long
)

// Main runs the registered source type typeKey of one EventSource until ctx
// ends, emitting to K_SINK. The EventSource comes from --eventsource (a file),
// EVENTSOURCE_FILE or EVENTSOURCE_OBJECT; secret references resolve from the
// environment and FLINT_SECRETS_DIR; for a type registered with
// sources.NeedsCluster, and only for it, the cluster it watches is
// --kubeconfig's (KUBECONFIG) or the pod's own; push routes bind all
// interfaces, as Argo Events' pods do. With PORT set, as Knative sets it to
// the one container port it routes, every push route is served on PORT
// whatever port its entry names, keeping its endpoint; FLINT_EVENT_NAMES
// limits the entries run to those it names. With FLINT_WAKE a pull source
// reads its origin only while it answers a POST to WakePath, draining the
// backlog each time, so its Service can scale to zero between wakes. It never registers or removes the
// type's managed hooks, except in the FLINT_HOOKS mode (EnvHooks), which
// does only that and returns. It is the body of every sources/cmd main.
func Main(ctx context.Context, typeKey string, args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet(typeKey, flag.ContinueOnError)
	file := fs.String("eventsource", getenv(EnvEventSourceFile), "path of the EventSource YAML (env "+EnvEventSourceFile+")")
	kubeconfig := fs.String("kubeconfig", getenv(EnvKubeconfig), "kubeconfig of the cluster the source watches, for types that need one (env "+EnvKubeconfig+"); the pod's service account when empty")
	if err := fs.Parse(args); err != nil {
		return err
	}
	typ, ok := sources.Lookup(typeKey)
	if !ok {
		return fmt.Errorf("source type %q is not registered", typeKey)
	}
	es, err := LoadEventSource(ctx, *file, getenv(EnvEventSourceObject))
	if err != nil {
		return err
	}
	if list := getenv(EnvEventNames); list != "" {
		var names []string
		for _, n := range strings.Split(list, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		if missing := es.Spec.KeepEntries(typeKey, names); len(missing) > 0 {
			return fmt.Errorf("%s: eventsource %s has no spec.%s entries named %s", EnvEventNames, es.Name, typeKey, strings.Join(missing, ", "))
		}
	}
	if len(es.Spec.EventNames(typeKey)) == 0 {
		return fmt.Errorf("eventsource %s has no spec.%s entries", es.Name, typeKey)
	}
	drain, err := drainFor(getenv(EnvDrain), typ)
	if err != nil {
		return err
	}
	wake, err := wakeFor(getenv(EnvWake), getenv(EnvPort), typ)
	if err != nil {
		return err
	}
	if drain != 0 && wake != 0 {
		return fmt.Errorf("%s and %s are exclusive: drain once and exit, or drain on each wake request", EnvDrain, EnvWake)
	}
	logger, err := newLogger(getenv(EnvLogLevel))
	if err != nil {
		return err
	}
	defer func() { _ = logger.Sync() }()
	log := logger.With(zap.String("eventSource", es.Name), zap.String("eventSourceType", typeKey))
	secrets := secret.Local{Dir: getenv(EnvSecretsDir)}
	if mode := getenv(EnvHooks); mode != "" {
		deps := sources.Deps{Logger: log, Secrets: secrets, Now: time.Now}
		if err := RunHooks(ctx, mode, typeKey, es, deps); err != nil {
			return err
		}
		log.Info("hooks done", zap.String("mode", mode))
		return nil
	}

	out, err := sink.FromGetenv(getenv)
	if err != nil {
		return fmt.Errorf("configuring sink: %w", err)
	}
	ext, err := ParseOverrides(getenv(EnvCEOverrides))
	if err != nil {
		return err
	}
	reg := metrics.New()
	names := es.Spec.EventNames(typeKey)
	emit, err := Stamp(es.Name, typeKey, out.Emit, StampOptions{Extensions: ext, Metrics: reg.Source, EventNames: names})
	if err != nil {
		return fmt.Errorf("configuring %s: %w", EnvCEOverrides, err)
	}
	rcv := receiver.New(receiver.Options{Secrets: secrets, Logger: log, Port: getenv(EnvPort)})
	if port := getenv(EnvPort); port != "" {
		// Knative probes the container's port: a source without push routes
		// (pull, watch) still answers there.
		if fe := rcv.Health(port); fe != nil {
			return fmt.Errorf("%s: %w", EnvPort, fe)
		}
	}
	deps := sources.Deps{Logger: log, Secrets: secrets, Now: time.Now, Receiver: rcv, Metrics: reg.Source}
	if typ.Connect != nil {
		if deps.Cluster, err = typ.Connect(*kubeconfig, log.Named("kubernetes")); err != nil {
			return fmt.Errorf("connecting %s sources to their cluster: %w", typeKey, err)
		}
		if deps.Cluster != nil {
			log.Info("using cluster", zap.String("server", deps.Cluster.Server()))
		}
	}
	src, err := typ.Factory(es, deps)
	if err != nil {
		return fmt.Errorf("building %s source of eventsource %s: %w", typeKey, es.Name, err)
	}
	stopMetrics, err := serveMetrics(reg, getenv, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	for _, n := range names {
		ev := reg.Source.Event(es.Name, n)
		ev.Running(true)
		defer ev.Running(false)
	}
	if drain != 0 {
		return Drain(ctx, log, src, emit, drain)
	}
	if wake != 0 {
		if err := serveWake(ctx, rcv, es.Name, src, emit, wake, log); err != nil {
			return err
		}
		log.Info("source waiting for wake requests", zap.String("path", WakePath), zap.Duration("drainAtMost", wake), zap.String("sink", out.URL()))
		if err := Run(ctx, rcv); err != nil {
			return fmt.Errorf("serving wake requests of %s source of eventsource %s: %w", typeKey, es.Name, err)
		}
		log.Info("source stopped")
		return nil
	}
	log.Info("source starting", zap.String("sink", out.URL()))
	if err := Run(ctx, rcv, func(ctx context.Context) error { return src.Run(ctx, emit) }); err != nil {
		return fmt.Errorf("running %s source of eventsource %s: %w", typeKey, es.Name, err)
	}
	log.Info("source stopped")
	return nil
}

// Run runs the receiver and the given source runs until ctx ends or one of
// them fails, which stops the others; it returns once all have returned, with
// the first error. A nil receiver is not run.
func Run(ctx context.Context, rcv *receiver.Receiver, runs ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	fail := func(err error) {
		if err != nil {
			once.Do(func() { first = err })
			cancel()
		}
	}
	if rcv != nil {
		wg.Go(func() { fail(rcv.Run(ctx)) })
	}
	for _, run := range runs {
		wg.Go(func() { fail(run(ctx)) })
	}
	wg.Wait()
	return first
}

// LoadEventSource reads one EventSource from the YAML file at path or, when
// path is empty, from inline (YAML text or its base64 encoding), and checks it
// as `flint validate` does: strict decoding, defaults, validation. It links
// no Knative Eventing types (see pkg/manifest/argo).
func LoadEventSource(ctx context.Context, path, inline string) (*v1alpha1.EventSource, error) {
	var (
		raw  []byte
		name = path
	)
	switch {
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading eventsource: %w", err)
		}
		raw = b
	case inline != "":
		name = EnvEventSourceObject
		raw = []byte(inline)
		if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(inline)); err == nil {
			raw = b
		}
	default:
		return nil, errors.New("no eventsource: pass --eventsource or set " + EnvEventSourceFile + " or " + EnvEventSourceObject)
	}
	es, problems, err := argo.CheckEventSource(ctx, bytes.NewReader(raw), name)
	if err != nil {
		return nil, fmt.Errorf("loading eventsource: %w", err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("checking eventsource: %w", problems)
	}
	return es, nil
}

func newLogger(level string) (*zap.Logger, error) {
	cfg := zap.NewProductionConfig()
	if level != "" {
		l, err := zapcore.ParseLevel(level)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvLogLevel, err)
		}
		cfg.Level = zap.NewAtomicLevelAt(l)
	}
	lg, err := cfg.Build()
	if err != nil {
		return nil, fmt.Errorf("building logger: %w", err)
	}
	return lg, nil
}
