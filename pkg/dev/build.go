package dev

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"knative.dev/pkg/apis"

	fsensor "github.com/flintevents/flint/functions/sensor"
	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/pkg/kube"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/pkg/sensor"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/receiver"
	"github.com/flintevents/flint/triggers"
)

// Problem is something wrong with one object, found while building it the
// way Run does: a field that cannot run (a bad expression, template or
// secret reference) or, with NotRunnable, a type this build has no runtime
// for yet.
type Problem struct {
	// Kind, Namespace and Name identify the object ("EventSource" or "Sensor").
	Kind, Namespace, Name string
	// Err holds the field paths and reasons.
	Err *apis.FieldError
	// NotRunnable marks valid Argo YAML that uses a type this build cannot run.
	NotRunnable bool
}

// Error renders the problem as "<kind> <name>: <path>: <reason>".
func (p Problem) Error() string {
	return fmt.Sprintf("%s %s/%s: %v", strings.ToLower(p.Kind), p.Namespace, p.Name, p.Err)
}

// Problems is every problem found while building a set of objects.
type Problems []Problem

// Error joins the problems one per line.
func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "\n")
}

// Check builds every EventSource adapter and Sensor of objs exactly as Run
// does at start (types, expressions, templates, secret references, routes)
// without binding, dialing or starting anything, and returns what is wrong.
// A type this build cannot run is a problem with NotRunnable set; Run refuses
// it with the same words. Check judges the objects, not the machine: a
// secret that is not set here and a missing cluster are not problems (Run
// still needs them), so the same YAML checks alike on a laptop and in CI.
func Check(ctx context.Context, objs Objects, opts Options) Problems {
	b, problems := build(objs, opts, "http://127.0.0.1", true, nil)
	if b != nil {
		b.close()
	}
	return withoutUnavailableSecrets(problems)
}

// errUnavailable marks a secret Check could not read on this machine.
var errUnavailable = errors.New("secret not available on this machine")

// offlineSecrets resolves what is set here and answers errUnavailable for the rest.
type offlineSecrets struct{ local secret.Local }

func (o offlineSecrets) Resolve(ctx context.Context, ref *corev1.SecretKeySelector) (string, error) {
	v, err := o.local.Resolve(ctx, ref)
	if errors.Is(err, secret.ErrNotFound) {
		return "", fmt.Errorf("%w: %w", errUnavailable, err)
	}
	return v, err
}

// withoutUnavailableSecrets drops the problems that only say a secret is not
// set on this machine. Plugins report a resolver's error in a field error's
// message, so the marker's text is what identifies them.
func withoutUnavailableSecrets(problems Problems) Problems {
	out := problems[:0]
	for _, p := range problems {
		var kept *apis.FieldError
		for _, fe := range p.Err.WrappedErrors() {
			if !strings.Contains(fe.Message, errUnavailable.Error()) {
				kept = kept.Also(fe)
			}
		}
		if kept != nil {
			p.Err = kept
			out = append(out, p)
		}
	}
	return out
}

// built is every component of a dev run, constructed and not started.
type built struct {
	graph    *compile.Graph
	sensors  []builtSensor
	sources  []builtSource
	receiver *receiver.Receiver
	// state is the JetStream the sensors keep their state in (KV), set once NATS is connected.
	state *sensor.DeferredBuckets
}

type builtSensor struct {
	unit compile.Sensor
	fn   *fsensor.Function
}

type builtSource struct {
	unit compile.Source
	src  sources.Source
	// hooks are the hooks its entries manage, registered while it runs; nil
	// when its type manages none.
	hooks sources.Hooks
}

func (b *built) close() {
	for _, s := range b.sensors {
		_ = s.fn.Close()
	}
}

// sensorMux routes each sensor's deliveries to its function at /<namespace>/<name>.
func (b *built) sensorMux() http.Handler {
	mux := http.NewServeMux()
	for _, s := range b.sensors {
		mux.Handle(s.unit.Path, s.fn)
	}
	return mux
}

// build compiles the object graph and constructs every sensor function and
// source adapter; sensorBase is the URL the sensor functions are served at.
// It returns what it built even when there are problems, for closing.
//
// offline builds as Check does: secrets not set here and a missing cluster
// do not stop the build (placeholder clients that are never called stand in).
// reg, when not nil, counts what the sources decide before emitting.
func build(objs Objects, opts Options, sensorBase string, offline bool, reg *metrics.Registry) (*built, Problems) {
	log := opts.logger()
	var secrets secret.Resolver = secret.Local{Dir: opts.SecretsDir}
	if offline {
		secrets = offlineSecrets{secret.Local{Dir: opts.SecretsDir}}
	}
	graph, err := compile.Compile(compile.Input{
		EventSources: objs.EventSources,
		Sensors:      objs.Sensors,
		Brokers:      objs.Brokers,
		Triggers:     objs.Triggers,
	}, compile.Options{SensorURL: func(ns, name string) *apis.URL {
		u, _ := apis.ParseURL(sensorBase + "/" + ns + "/" + name)
		return u
	}})
	if err != nil {
		return nil, Problems{{Kind: "Graph", Err: &apis.FieldError{Message: err.Error()}}}
	}
	b := &built{
		graph: graph,
		state: &sensor.DeferredBuckets{},
		receiver: receiver.New(receiver.Options{
			Host:    opts.ListenHost,
			Secrets: secrets,
			Logger:  log.Named("receiver"),
		}),
	}
	var problems Problems
	clients, err := kube.Connect(opts.Kubeconfig)
	switch {
	case err == nil && clients == nil && offline:
		clients, err = kube.New(&rest.Config{Host: "https://cluster.invalid"})
	case err == nil && clients != nil && !offline:
		// A failing watch or request is a line of flint's log, not klog's.
		kube.LogTo(log.Named("kubernetes"))
	}
	if err != nil {
		return b, Problems{{Kind: "Options", Name: "kubeconfig", Err: &apis.FieldError{Message: err.Error(), Paths: []string{"--kubeconfig"}}}}
	}
	deps := triggers.Deps{Logger: log.Named("sensor"), Secrets: secrets}
	if clients != nil {
		deps.Kube = clients
	}
	for _, unit := range graph.Sensors {
		s := unit.Sensor
		fn, err := fsensor.New(s, sensor.Options{
			Deps:             deps,
			Store:            sensor.NewKVStore(b.state, sensor.BucketName(unit.Namespace, s.Name), sensor.KVOptions{Replicas: opts.Broker.StreamReplicas}),
			AllowNotRunnable: true,
			EvalTimeout:      opts.EvalTimeout,
		})
		if err != nil {
			problems = append(problems, objectProblems("Sensor", unit.Namespace, s.Name, err)...)
			continue
		}
		if missing := notRunnableTriggers(fn.NotRunnable()); missing != nil {
			problems = append(problems, Problem{Kind: "Sensor", Namespace: unit.Namespace, Name: s.Name, Err: missing, NotRunnable: true})
			_ = fn.Close()
			continue
		}
		b.sensors = append(b.sensors, builtSensor{unit: unit, fn: fn})
	}
	for _, unit := range graph.Sources {
		es := unit.EventSource
		typ, ok := sources.Lookup(unit.Key)
		if !ok {
			problems = append(problems, Problem{Kind: "EventSource", Namespace: unit.Namespace, Name: es.Name,
				Err: notRunnable("event source", unit.Key, sources.Keys()).ViaField("spec"), NotRunnable: true})
			continue
		}
		deps := sources.Deps{Logger: log.Named("eventsource"), Secrets: secrets, Receiver: b.receiver}
		if typ.Connect != nil && clients != nil {
			// The sensors' clients serve the types that need a cluster too;
			// offline, the placeholder stands in for a missing one.
			deps.Cluster = clients
		}
		if reg != nil {
			deps.Metrics = reg.Source
		}
		src, err := typ.Factory(es, deps)
		if err != nil {
			problems = append(problems, objectProblems("EventSource", unit.Namespace, es.Name, err)...)
			continue
		}
		hooks, err := host.NewHooks(unit.Key, es, deps)
		if err != nil {
			problems = append(problems, objectProblems("EventSource", unit.Namespace, es.Name, err)...)
			continue
		}
		b.sources = append(b.sources, builtSource{unit: unit, src: src, hooks: hooks})
	}
	return b, problems
}

// notRunnableTriggers turns the engine's list of unbuilt trigger paths
// ("spec.triggers[1].template.kafka") into one field error.
func notRunnableTriggers(paths []string) *apis.FieldError {
	var errs *apis.FieldError
	for _, p := range paths {
		key := p[strings.LastIndex(p, ".")+1:]
		e := notRunnable("trigger", key, triggers.Keys())
		e.Paths = []string{p}
		errs = errs.Also(e)
	}
	return errs
}

// notRunnable is the one wording `flint validate` warns with and `flint dev`
// refuses with, at the type key's field.
func notRunnable(kind, key string, runnable []string) *apis.FieldError {
	return &apis.FieldError{
		Message: fmt.Sprintf("not runnable yet: %s type %q (runnable: %s)", kind, key, strings.Join(runnable, ", ")),
		Paths:   []string{key},
	}
}

// objectProblems splits what building an object reported: errors, and the
// warning-level field errors of registry.NotRunnable (valid YAML this build
// cannot run yet), which become NotRunnable problems at error level so they
// are located and printed like any other.
func objectProblems(kind, namespace, name string, err error) Problems {
	fe := fieldError(err)
	var out Problems
	if errs := fe.Filter(apis.ErrorLevel); errs != nil {
		out = append(out, Problem{Kind: kind, Namespace: namespace, Name: name, Err: errs})
	}
	if warns := fe.Filter(apis.WarningLevel); warns != nil {
		out = append(out, Problem{Kind: kind, Namespace: namespace, Name: name, Err: warns.At(apis.ErrorLevel), NotRunnable: true})
	}
	return out
}

// fieldError returns err as a field error, keeping its paths when it is one.
func fieldError(err error) *apis.FieldError {
	var fe *apis.FieldError
	if errors.As(err, &fe) {
		return fe
	}
	return &apis.FieldError{Message: err.Error()}
}

func (o Options) logger() *zap.Logger {
	if o.Logger == nil {
		return zap.NewNop()
	}
	return o.Logger
}
