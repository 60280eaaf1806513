// Package sensor is flint's sensor engine: it runs one Argo Events Sensor.
// New compiles the Sensor once, reporting every problem with its field path;
// Handle takes each delivered event through the dependency filters, the
// trigger conditions, the parameters and payloads, and fires the triggers
// (retry, rate limit, status policy, dlqTrigger, idempotency) through the
// trigger types of package triggers. The semantics are Argo Events' own,
// quirks included.
//
// Filters. The transform (jq, whose first output must be an object, or a Lua
// script returning a table) runs before the filters. Filter kinds run in the
// order exprs, data, context, time, script and combine per
// filtersLogicalOperator: "and" (the default) needs every defined kind and
// stops at the first error; "or" needs one defined kind, collects the exprs,
// data and time errors, and fails on a script error. Within the data and the
// exprs lists, "and" stops at the first error or mismatch and "or" passes at
// the first match, else reports the collected errors. Events without data
// pass the data, expr and script filters.
//
// Data filters read a gjson path (a missing path is an error); an optional
// template (text/template with sprig, .Input being the value) replaces the
// value. Strings are unanchored regular expressions: "=" passes when one
// matches, "!=" when none does, other comparators never pass. Numbers
// (numeric strings included) take the six comparators: "!=" passes when the
// number equals none of the values, the others when one value satisfies
// them. Booleans compare with strconv.ParseBool values. Expression filters
// are govaluate expressions (=~, !~, in (…) and the keyword IN are
// translated to expr-lang) over named gjson values; only true passes.
//
// Conditions. A trigger's `conditions` combine dependency names with `&&`,
// `||` and parentheses; empty means every dependency with `&&`. Without an
// `&&` each event fires the trigger once per dependency it satisfies; with
// one, the latest event per dependency waits in the StateStore until the
// condition holds.
//
// Parameters. When the dependency has no event, the default value is used,
// or else the parameter is skipped. With an event and no key or template,
// the value is the default, or else the whole event as JSON with base64
// data. Otherwise the data selectors win over the context ones, and the
// template is tried first (a "" or "<no value>" result fails), then the key,
// then the default. Keys give raw JSON for values that are not strings,
// inserted raw only with useRawData; append and prepend make a string.
// Trigger-level `parameters` apply to the template JSON (dest `http.url`);
// the type's own `parameters` to its spec (dest `url`), and its
// `dynamicHeaders` set `headers` by header name; the type's `payload` builds
// the payload as Argo's ConstructPayload.
package sensor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/triggers"
)

// Options are what a Sensor gets from its host.
type Options struct {
	// Deps are passed to every trigger type; a nil Logger logs nothing.
	Deps triggers.Deps
	// Store keeps condition state and idempotency keys; nil means a new
	// in-memory store.
	Store StateStore
	// AllowNotRunnable compiles triggers whose type is not registered in
	// this build without building them (for `flint validate`); NotRunnable
	// lists them. When false, such a trigger is a problem at its template key.
	AllowNotRunnable bool
	// SkipBuild compiles everything but builds no trigger type, as for a dry
	// run: the problems only a type's own factory finds are not reported,
	// and Handle fails every firing.
	SkipBuild bool
	// EvalTimeout is the time limit of each evaluation of user code (a Lua
	// script or transform, a jq transform, a template, an expression); one
	// that outlasts it fails its filter or parameter. DefaultEvalTimeout
	// when zero.
	EvalTimeout time.Duration
	// EvalMemory is how much the heap may grow while one Lua script or jq
	// transform runs; past it the evaluation stops and fails its filter or
	// transform. DefaultEvalMemory when zero.
	EvalMemory int64
}

// Sensor is a compiled Sensor, ready to handle events; it is safe for
// concurrent use.
type Sensor struct {
	name        string
	deps        []*dependency
	triggers    []*trigger
	store       StateStore
	logger      *zap.Logger
	round       *roundPolicy
	notRunnable []string
	evalTimeout time.Duration
	evalMemory  int64
}

// New compiles a Sensor: its dependencies (filters, transforms), its
// triggers (conditions, conditionsReset schedules, parameters and payloads,
// templates) and builds every trigger through the trigger registry. Problems
// are returned together as one *apis.FieldError with full paths, e.g.
// `spec.dependencies[0].filters.data[0].value[1]`.
func New(s *v1alpha1.Sensor, opts Options) (*Sensor, error) {
	if s == nil {
		return nil, apis.ErrMissingField("spec")
	}
	if opts.Deps.Logger == nil {
		opts.Deps.Logger = zap.NewNop()
	}
	logger := sensorLogger(opts.Deps.Logger, s)
	// Trigger types log with the loggingFields too (and name the sensor themselves).
	opts.Deps.Logger = opts.Deps.Logger.With(loggingFields(s)...)
	out := &Sensor{name: s.Name, store: opts.Store, logger: logger, round: newRoundPolicy(&s.Spec), evalTimeout: opts.EvalTimeout, evalMemory: opts.EvalMemory}
	if out.store == nil {
		out.store = NewMemoryStore(DefaultFiredKeys)
	}
	c := &compiler{opts: opts, namespace: s.Namespace, deps: make(map[string]bool, len(s.Spec.Dependencies))}
	var errs *apis.FieldError
	if len(s.Spec.Dependencies) == 0 {
		errs = apis.ErrMissingField("dependencies")
	}
	first := map[string]int{}
	names := make([]string, 0, len(s.Spec.Dependencies))
	for i := range s.Spec.Dependencies {
		d := &s.Spec.Dependencies[i]
		dep, err := newDependency(d)
		errs = errs.Also(err.ViaFieldIndex("dependencies", i))
		if d.Name == "" {
			continue
		}
		if j, dup := first[d.Name]; dup {
			errs = errs.Also(apis.ErrGeneric(fmt.Sprintf("duplicate dependency name %q (also dependencies[%d])", d.Name, j), "name").
				ViaFieldIndex("dependencies", i))
			continue
		}
		first[d.Name] = i
		c.deps[d.Name] = true
		names = append(names, d.Name)
		if err == nil {
			out.deps = append(out.deps, dep)
		}
	}
	c.allDeps = strings.Join(names, " && ")

	if len(s.Spec.Triggers) == 0 {
		errs = errs.Also(apis.ErrMissingField("triggers"))
	}
	trigNames := map[string]int{}
	for i := range s.Spec.Triggers {
		t := &s.Spec.Triggers[i]
		trig, err := c.trigger(t, fmt.Sprintf("spec.triggers[%d]", i), false)
		errs = errs.Also(err.ViaFieldIndex("triggers", i))
		if t.Template != nil && t.Template.Name != "" {
			if j, dup := trigNames[t.Template.Name]; dup {
				errs = errs.Also(apis.ErrGeneric(fmt.Sprintf("duplicate trigger name %q (also triggers[%d])", t.Template.Name, j), "template.name").
					ViaFieldIndex("triggers", i))
			} else {
				trigNames[t.Template.Name] = i
			}
		}
		if trig != nil {
			out.triggers = append(out.triggers, trig)
		}
	}
	out.notRunnable = c.notRunnable
	if errs = errs.ViaField("spec"); errs != nil {
		_ = out.Close()
		return nil, errs
	}
	return out, nil
}

// NotRunnable lists the field paths of the triggers whose type this build
// cannot run (e.g. `spec.triggers[1].template.kafka`); New compiles them only
// with Options.AllowNotRunnable.
func (s *Sensor) NotRunnable() []string {
	return append([]string(nil), s.notRunnable...)
}

// Close closes every trigger.
func (s *Sensor) Close() error {
	var errs []error
	for _, t := range s.triggers {
		errs = append(errs, t.close())
	}
	return errors.Join(errs...)
}

// Handle processes one delivered event. It returns nil when the event was
// handled (fired, filtered out, or not for this sensor) and an error wrapping
// ErrTriggerFailed when the broker should deliver it again (a trigger
// failed, or the state store did, or, with `errorOnFailedRound`, an earlier
// round failed: then the error also wraps ErrFailedRound). When every round
// failed to resolve its trigger from the event, the error also wraps
// ErrPermanent: a redelivery would fail the same way. Triggers fired by
// one event run concurrently, as in Argo; a trigger that already succeeded
// for the same events (a redelivery) is not fired again.
func (s *Sensor) Handle(ctx context.Context, ev *event.Event) error {
	if ev == nil {
		return nil
	}
	ctx = withEvalMemory(withEvalTimeout(ctx, s.evalTimeout), s.evalMemory)
	var matched []*dependency
	for _, d := range s.deps {
		if d.matches(ev) {
			matched = append(matched, d)
		}
	}
	log := eventLogger{base: s.logger, ev: ev}
	if len(matched) == 0 {
		log.Debug("event is for no dependency of this sensor")
		return nil
	}
	if err := s.round.admit(); err != nil {
		log.Warn("event refused", zap.Error(err))
		return fmt.Errorf("%w: %w", ErrTriggerFailed, err)
	}
	if log.enabled(zap.InfoLevel) {
		names := make([]string, len(matched))
		for i, d := range matched {
			names[i] = d.name
		}
		log.Info("event received", zap.Strings("dependencies", names))
	}

	passed := make(map[string]*event.Event, len(matched))
	for _, d := range matched {
		out, pass, reason, err := d.filter(ctx, ev)
		switch {
		case err != nil:
			log.Warn("dependency filtered out", zap.String("dependency", d.name), zap.String("reason", reason), zap.Error(err))
		case !pass:
			log.Info("dependency filtered out", zap.String("dependency", d.name), zap.String("reason", reason))
		default:
			passed[d.name] = out
		}
	}
	if len(passed) == 0 {
		return nil
	}

	var (
		rounds []round
		errs   []error
	)
	for _, t := range s.triggers {
		sets, err := t.offer(ctx, s.store, passed)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, events := range sets {
			rounds = append(rounds, round{t: t, events: events, key: idempotencyKey(s.name, t.name, events)})
		}
	}
	// A single trigger runs on the caller's goroutine.
	fired := make([]error, len(rounds))
	if len(rounds) == 1 {
		fired[0] = s.fire(ctx, rounds[0], log)
	} else {
		var wg sync.WaitGroup
		for i, rd := range rounds {
			wg.Go(func() { fired[i] = s.fire(ctx, rd, log) })
		}
		wg.Wait()
	}
	err := errors.Join(append(errs, fired...)...)
	s.round.record(err)
	_, inProcess := inProcessDelivery(ctx)
	switch {
	case err != nil:
		s.markFired(ctx, rounds, fired, 0, log) // kept while the broker retries
	case !inProcess:
		s.markFired(ctx, rounds, fired, SettledTTL, log) // only a lost answer brings it back
	}
	if err != nil {
		if permanent(err) {
			return fmt.Errorf("%w: %w: %w", ErrTriggerFailed, ErrPermanent, err)
		}
		return fmt.Errorf("%w: %w", ErrTriggerFailed, err)
	}
	return nil
}

// round is one firing an event brings about: a trigger, the events that
// satisfied its condition, and the idempotency key of that set.
type round struct {
	t      *trigger
	events map[string]*event.Event
	key    string
}

// fire runs one trigger for a satisfied set of events, once per idempotency
// key: a redelivered event does not fire a trigger that already succeeded.
// The key is not looked up for the first in-process delivery of an event: a
// set holding an event delivered for the first time cannot have fired before.
func (s *Sensor) fire(ctx context.Context, rd round, log eventLogger) error {
	t, events := rd.t, rd.events
	if attempt, inProcess := inProcessDelivery(ctx); !inProcess || attempt > 1 {
		done, err := s.store.Fired(ctx, rd.key)
		if err != nil {
			_ = t.restore(context.WithoutCancel(ctx), s.store, events)
			return fmt.Errorf("trigger %s: reading idempotency key: %w", t.name, err)
		}
		if done {
			log.Info("trigger already fired for these events", zap.String("trigger", t.name))
			return nil
		}
	}
	res, err := t.run(ctx, s.name, rd.key, events)
	if err != nil {
		// A failed firing keeps its events so that the redelivery finds the
		// condition satisfied again.
		if rerr := t.restore(context.WithoutCancel(ctx), s.store, events); rerr != nil {
			err = fmt.Errorf("%w; restoring the condition state: %w", err, rerr)
		}
		log.Error("trigger failed", zap.String("trigger", t.name), zap.Strings("triggeredBy", eventIDs(events)), zap.Error(err))
		return fmt.Errorf("trigger %s: %w", t.name, err)
	}
	t.logFired(log, events, res)
	return nil
}

// markFired records, for ttl (the store's default when 0), the idempotency
// keys of the firings that succeeded, so that a redelivery of the event does
// not fire them twice. Handle calls it when the round failed (the broker
// delivers the event again, for as long as it retries) and, with SettledTTL,
// for a round that succeeded over HTTP (its answer can be lost); not for an
// in-process delivery that succeeded, whose acknowledgement follows at once:
// such a round leaves nothing in the store, short of a crash between firing
// and acknowledgement, after which the delivery is at least once.
func (s *Sensor) markFired(ctx context.Context, rounds []round, fired []error, ttl time.Duration, log eventLogger) {
	ctx = context.WithoutCancel(ctx)
	for i, rd := range rounds {
		if fired[i] != nil {
			continue
		}
		if err := s.store.MarkFired(ctx, rd.key, ttl); err != nil {
			log.Warn("trigger fired but its idempotency key was not recorded: the redelivery fires it again",
				zap.String("trigger", rd.t.name), zap.Error(err))
		}
	}
}
