package sensor

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	engine "github.com/flintevents/flint/pkg/sensor"
	"github.com/flintevents/flint/triggers"
)

// runner holds one compiled trigger of a sensor and the events its condition
// is waiting on.
type runner struct {
	name     string
	spec     *v1alpha1.Trigger
	impl     triggers.Trigger
	dlq      *runner
	tmpl     []byte // the template as JSON, the document trigger-level parameters apply to
	params   *engine.Parameters
	deps     []string
	cond     *v1alpha1.Conditions
	stateful bool
	limiter  *rate.Limiter

	mu      sync.Mutex
	pending map[string]*event.Event
}

func newRunner(sensor string, t *v1alpha1.Trigger, allDeps []string, deps triggers.Deps, path string) (*runner, error) {
	if t.Template == nil {
		return nil, fmt.Errorf("%s.template: missing field", path)
	}
	keys := t.Template.TypeKeys()
	if len(keys) != 1 {
		return nil, fmt.Errorf("%s.template: expected exactly one trigger type, got %v", path, keys)
	}
	factory, ok := triggers.Lookup(keys[0])
	if !ok {
		return nil, fmt.Errorf("%s.template.%s: trigger type %q is not supported yet (supported: %s)", path, keys[0], keys[0], strings.Join(triggers.Keys(), ", "))
	}
	impl, err := factory(t.Template, deps)
	if err != nil {
		return nil, fmt.Errorf("%s.template.%s: %w", path, keys[0], err)
	}
	r := &runner{name: t.Template.Name, spec: t, impl: impl, pending: map[string]*event.Event{}}
	if len(t.Parameters) > 0 {
		if r.params, err = engine.CompileParameters(t.Parameters); err != nil {
			return nil, fmt.Errorf("%s.parameters: %w", path, err)
		}
		if r.tmpl, err = json.Marshal(t.Template); err != nil {
			return nil, fmt.Errorf("%s.template: encoding: %w", path, err)
		}
	}

	expr := strings.TrimSpace(t.Template.Conditions)
	if expr == "" {
		// Argo's default: every dependency of the sensor is required.
		expr = strings.Join(allDeps, " && ")
	}
	if r.cond, err = v1alpha1.ParseConditions(expr); err != nil {
		return nil, fmt.Errorf("%s.template.conditions: %w", path, err)
	}
	r.deps = r.cond.Dependencies()
	// Without an `&&` every satisfying event fires on its own, as in Argo.
	r.stateful = strings.Contains(expr, "&&")

	if rl := t.RateLimit; rl != nil && rl.RequestsPerUnit > 0 {
		unit := time.Second
		switch rl.Unit {
		case v1alpha1.Minute:
			unit = time.Minute
		case v1alpha1.Hour:
			unit = time.Hour
		}
		every := unit / time.Duration(rl.RequestsPerUnit)
		r.limiter = rate.NewLimiter(rate.Every(every), 1)
	}
	if t.DlqTrigger != nil {
		dlq := *t.DlqTrigger
		if r.dlq, err = newRunner(sensor, &dlq, allDeps, deps, path+".dlqTrigger"); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// offer gives the runner the events that passed their filters and returns the
// events to fire with when its condition is satisfied, else nil. Without an
// `&&` in the condition every event fires on its own, as in Argo; with one, the
// latest event per dependency is kept until the condition holds.
func (r *runner) offer(passed map[string]*event.Event) map[string]*event.Event {
	if !r.stateful {
		events := map[string]*event.Event{}
		for _, d := range r.deps {
			if ev, ok := passed[d]; ok {
				events[d] = ev
			}
		}
		if len(events) == 0 || !r.cond.Eval(func(d string) bool { _, ok := events[d]; return ok }) {
			return nil
		}
		return events
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	touched := false
	for _, d := range r.deps {
		if ev, ok := passed[d]; ok {
			r.pending[d] = ev
			touched = true
		}
	}
	if !touched || !r.cond.Eval(func(d string) bool { _, ok := r.pending[d]; return ok }) {
		return nil
	}
	events := r.pending
	r.pending = map[string]*event.Event{}
	return events
}

// restore puts back events of a failed round unless newer ones arrived.
func (r *runner) restore(events map[string]*event.Event) {
	if !r.stateful {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for d, ev := range events {
		if _, newer := r.pending[d]; !newer {
			r.pending[d] = ev
		}
	}
}

// run fires the trigger with its retry strategy, rate limit, status policy and
// dead-letter trigger.
func (r *runner) run(ctx context.Context, sensor, key string, events map[string]*event.Event) (triggers.Result, error) {
	res, err := r.retry(ctx, sensor, key, events)
	if err == nil || r.dlq == nil {
		return res, err
	}
	if _, dlqErr := r.dlq.retry(ctx, sensor, key+"/dlq", events); dlqErr != nil {
		return res, fmt.Errorf("%w; dlqTrigger %s: %w", err, r.dlq.name, dlqErr)
	}
	return res, nil
}

func (r *runner) retry(ctx context.Context, sensor, key string, events map[string]*event.Event) (triggers.Result, error) {
	attempts, wait, factor, jitter := backoff(r.spec.RetryStrategy)
	var (
		res triggers.Result
		err error
	)
	for attempt := 1; ; attempt++ {
		res, err = r.once(ctx, sensor, key, events)
		if err == nil || attempt >= attempts || ctx.Err() != nil {
			return res, err
		}
		d := wait
		if jitter > 0 {
			d += time.Duration(rand.Float64() * jitter * float64(wait))
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("%w (retry cancelled: %w)", err, ctx.Err())
		case <-time.After(d):
		}
		wait = time.Duration(float64(wait) * factor)
	}
}

func (r *runner) once(ctx context.Context, sensor, key string, events map[string]*event.Event) (triggers.Result, error) {
	if r.limiter != nil {
		if err := r.limiter.Wait(ctx); err != nil {
			return triggers.Result{}, fmt.Errorf("waiting for rate limit: %w", err)
		}
	}
	tmpl := r.spec.Template
	if r.params != nil {
		doc, err := r.params.Apply(r.tmpl, events)
		if err != nil {
			return triggers.Result{}, fmt.Errorf("applying parameters: %w", err)
		}
		tmpl = &v1alpha1.TriggerTemplate{}
		if err := json.Unmarshal(doc, tmpl); err != nil {
			return triggers.Result{}, fmt.Errorf("decoding parameterized template: %w", err)
		}
	}
	res, err := r.impl.Fire(ctx, triggers.Firing{Sensor: sensor, Template: tmpl, Events: events, IdempotencyKey: key})
	if err != nil {
		return res, err
	}
	if res.StatusCode != 0 && !engine.StatusAllowed(r.spec.Policy, res.StatusCode) {
		return res, fmt.Errorf("status %d not allowed by policy.status.allow", res.StatusCode)
	}
	return res, nil
}

// backoff reads Argo's retryStrategy: no strategy means one attempt; steps 0
// means 5; factor and jitter default to 1.
func backoff(b *v1alpha1.Backoff) (attempts int, wait time.Duration, factor, jitter float64) {
	if b == nil {
		return 1, 0, 1, 0
	}
	attempts, factor, jitter = int(b.Steps), 1, 1
	if attempts <= 0 {
		attempts = 5
	}
	if b.Duration != nil {
		if d, err := b.Duration.Duration(); err == nil {
			wait = d
		}
	}
	if wait <= 0 {
		wait = time.Second
	}
	if b.Factor != nil {
		if f, err := b.Factor.Float64(); err == nil && f > 0 {
			factor = f
		}
	}
	if b.Jitter != nil {
		if j, err := b.Jitter.Float64(); err == nil && j >= 0 {
			jitter = j
		}
	}
	return attempts, wait, factor, jitter
}

// idempotencyKey is stable across redeliveries: sensor/trigger/sorted event ids.
func idempotencyKey(sensor, trigger string, events map[string]*event.Event) string {
	return sensor + "/" + trigger + "/" + strings.Join(eventIDs(events), ",")
}

func eventIDs(events map[string]*event.Event) []string {
	ids := make([]string, 0, len(events))
	for d, ev := range events {
		ids = append(ids, d+":"+ev.Context.ID)
	}
	sort.Strings(ids)
	return ids
}
