package sensor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tidwall/gjson"
	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/triggers"
)

// offer gives the trigger the events that passed their filters and returns
// the event sets to fire with, none when its condition is not satisfied.
// Without an `&&` in the condition the trigger fires once per dependency the
// event satisfies, each set holding that dependency's event, as in Argo;
// with one, the latest event per dependency waits in the store until the
// condition holds, and the one set fires. A `conditionsReset` tick since the
// state was last updated clears the waiting events first; an event that
// already satisfied the condition once (a redelivery) is not taken again.
func (t *trigger) offer(ctx context.Context, store StateStore, passed map[string]*event.Event) ([]map[string]*event.Event, error) {
	if !t.stateful {
		var sets []map[string]*event.Event
		for _, d := range t.deps {
			if ev, ok := passed[d]; ok && t.cond.eval(func(name string) bool { return name == d }) {
				sets = append(sets, map[string]*event.Event{d: ev})
			}
		}
		return sets, nil
	}
	touched := false
	for _, d := range t.deps {
		if _, ok := passed[d]; ok {
			touched = true
			break
		}
	}
	if !touched {
		return nil, nil
	}
	reset := lastReset(t.resets)
	var fire map[string]*event.Event
	err := store.UpdatePending(ctx, t.name, func(p Pending) Pending {
		fire = nil
		if reset.After(p.Reset) {
			p.Events, p.Reset = nil, reset
		}
		added := false
		for _, d := range t.deps {
			if ev, ok := passed[d]; ok && !p.consumed(d, ev) {
				if p.Events == nil {
					p.Events = make(map[string]*event.Event, len(t.deps))
				}
				p.Events[d] = ev
				added = true
			}
		}
		if !added || !t.cond.eval(func(d string) bool { _, ok := p.Events[d]; return ok }) {
			return p
		}
		fire = p.Events
		p.Events = nil
		p.consume(fire)
		return p
	})
	if err != nil {
		return nil, fmt.Errorf("updating the condition state of trigger %s: %w", t.name, err)
	}
	if fire == nil {
		return nil, nil
	}
	return []map[string]*event.Event{fire}, nil
}

// restore puts back the events of a failed firing unless newer ones
// arrived (or a reset cleared the state since), so that a redelivery finds
// the condition satisfied again.
func (t *trigger) restore(ctx context.Context, store StateStore, events map[string]*event.Event) error {
	if !t.stateful {
		return nil
	}
	reset := lastReset(t.resets)
	return store.UpdatePending(ctx, t.name, func(p Pending) Pending {
		p.unconsume(events)
		if reset.After(p.Reset) {
			p.Events, p.Reset = nil, reset
			return p
		}
		if p.Events == nil {
			p.Events = make(map[string]*event.Event, len(events))
		}
		for d, ev := range events {
			if _, newer := p.Events[d]; !newer {
				p.Events[d] = ev
			}
		}
		return p
	})
}

// run fires the trigger with its retry strategy, rate limit and status
// policy and, when that fails, its dlqTrigger with the same events.
// An observer in ctx is told how the trigger itself ended, whatever the
// dlqTrigger did.
func (t *trigger) run(ctx context.Context, sensor, key string, events map[string]*event.Event) (triggers.Result, error) {
	start := time.Now()
	res, err := t.retried(ctx, sensor, key, events)
	if o := observerFrom(ctx); o != nil {
		o.Fired(t.name, start, err)
	}
	if err == nil || t.dlq == nil {
		return res, err
	}
	if _, dlqErr := t.dlq.retried(ctx, sensor, key+"/dlq", events); dlqErr != nil {
		return res, fmt.Errorf("%w; dlqTrigger %s: %w", err, t.dlq.name, dlqErr)
	}
	return res, nil
}

// retried resolves the trigger once for these events and fires it per its
// retry strategy. A failure to resolve it from the events is unresolvable
// (see unresolvableFrom): no redelivery can mend it.
func (t *trigger) retried(ctx context.Context, sensor, key string, events map[string]*event.Event) (triggers.Result, error) {
	spec, in, _, err := t.prepare(ctx, sensor, key, events)
	if err != nil {
		return triggers.Result{}, err
	}
	var res triggers.Result
	err = t.retry.do(ctx, func() error {
		res, err = t.once(ctx, spec, in)
		return err
	})
	return res, err
}

// prepare resolves the trigger once for these events into what its
// instance fires with: the decoded spec and the firing, named for sensor
// and key. A real firing (retried) and a dry run (Explainer) prepare alike;
// only the instance differs. A failure to resolve it from the events is
// unresolvable (see unresolvableFrom).
func (t *trigger) prepare(ctx context.Context, sensor, key string, events map[string]*event.Event) (any, triggers.Firing, resolution, error) {
	if t.inst == nil {
		return nil, triggers.Firing{}, resolution{}, fmt.Errorf("trigger type %q is not runnable", t.key)
	}
	spec, r, err := t.resolve(ctx, events)
	if err != nil {
		return nil, r.in, r, unresolvableFrom(ctx, err)
	}
	in := r.in
	in.Sensor, in.Trigger, in.IdempotencyKey = sensor, t.name, key
	in.Namespace, in.Policy = t.namespace, t.policy
	r.in = in
	return spec, in, r, nil
}

// once waits for the rate limit, fires, and judges the status by the policy.
func (t *trigger) once(ctx context.Context, spec any, in triggers.Firing) (triggers.Result, error) {
	if t.limiter != nil {
		if err := t.limiter.Wait(ctx); err != nil {
			return triggers.Result{}, fmt.Errorf("waiting for rate limit: %w", err)
		}
	}
	res, err := t.inst.Fire(ctx, spec, in)
	if err != nil {
		return res, err
	}
	if res.StatusCode != 0 && !statusAllowed(t.policy, res.StatusCode) {
		return res, fmt.Errorf("status %d not allowed by policy.status.allow", res.StatusCode)
	}
	return res, nil
}

// resolution is a trigger resolved for one firing's events, before its
// type decodes the spec.
type resolution struct {
	// doc is the template JSON after the trigger-level parameters; nil when
	// the trigger keeps no template JSON (no trigger-level parameters).
	doc []byte
	// raw is the type's spec after its dynamic headers and, unless the type
	// applies them itself (in.ApplyParameters), its `parameters`.
	raw []byte
	// in holds the payload, the events and ApplyParameters.
	in triggers.Firing
}

// resolveJSON resolves the trigger for events as JSON: the trigger-level
// parameters apply to the template JSON, then the type's dynamic headers
// and `parameters` to its spec (or, for a type that applies them to the
// object it creates, become in.ApplyParameters), and the type's `payload`
// makes the payload. Errors name the list and parameter, e.g.
// `http.payload[0]: …`.
func (t *trigger) resolveJSON(ctx context.Context, events map[string]*event.Event) (resolution, error) {
	r := resolution{doc: t.tmpl}
	spec := &t.spec
	var err error
	if t.params != nil {
		if r.doc, err = t.params.apply(ctx, t.tmpl, events); err != nil {
			return r, fmt.Errorf("applying parameters: parameters%w", err)
		}
		raw := []byte(gjson.GetBytes(r.doc, t.key).Raw)
		if listsOf(raw) == spec.lists {
			s := *spec
			s.raw = raw
			spec = &s
		} else {
			s, ferr := compileTypeSpec(raw, t.depNames)
			if ferr != nil {
				return r, fmt.Errorf("applying parameters: %s: %w", t.key, ferr)
			}
			spec = &s
		}
	}
	r.raw = spec.raw
	if spec.headers != nil {
		if r.raw, err = spec.headers.apply(ctx, r.raw, events); err != nil {
			return r, fmt.Errorf("%s.dynamicHeaders%w", t.key, err)
		}
	}
	if spec.params != nil {
		if t.resource {
			params := spec.params
			// The trigger applies them while it fires, within this firing's context.
			r.in.ApplyParameters = func(doc []byte) ([]byte, error) {
				out, err := params.apply(ctx, doc, events)
				if err != nil {
					return nil, unresolvableFrom(ctx, fmt.Errorf("%s.parameters%w", t.key, err))
				}
				return out, nil
			}
		} else if r.raw, err = spec.params.apply(ctx, r.raw, events); err != nil {
			return r, fmt.Errorf("%s.parameters%w", t.key, err)
		}
	}
	if spec.payload != nil {
		if r.in.Payload, err = spec.payload.payload(ctx, events); err != nil {
			return r, fmt.Errorf("%s.payload%w", t.key, err)
		}
	}
	r.in.Events = events
	return r, nil
}

// resolve builds what one firing needs from the events (see resolveJSON)
// and decodes the spec to the type's own.
func (t *trigger) resolve(ctx context.Context, events map[string]*event.Event) (any, resolution, error) {
	r, err := t.resolveJSON(ctx, events)
	if err != nil {
		return nil, r, err
	}
	if t.decoded != nil {
		return t.decoded, r, nil
	}
	decoded, err := t.inst.Decode(r.raw)
	if err != nil {
		return nil, r, fmt.Errorf("%s: %w", t.key, err)
	}
	return decoded, r, nil
}

// close closes the trigger's instance and its dlqTrigger's.
func (t *trigger) close() error {
	var errs []error
	if t.inst != nil {
		errs = append(errs, t.inst.Close())
	}
	if t.dlq != nil {
		errs = append(errs, t.dlq.close())
	}
	return errors.Join(errs...)
}

// logFired logs a trigger that fired. A trigger answering an error status with no
// policy.status.allow to judge it counts as fired, as in Argo; it is logged at WARN
// with the status so that the failure does not pass unnoticed.
func (t *trigger) logFired(log eventLogger, events map[string]*event.Event, res triggers.Result) {
	lvl, msg := zap.InfoLevel, "trigger fired"
	if res.StatusCode >= 400 && !judgesStatus(t.policy) {
		lvl, msg = zap.WarnLevel, "trigger answered an error status, counted as fired since no policy.status.allow judges it"
	}
	if log.enabled(lvl) {
		log.log(lvl, msg, zap.String("trigger", t.name), zap.Strings("triggeredBy", eventIDs(events)), zap.Int("status", res.StatusCode))
	}
}

// judgesStatus reports whether policy lists the statuses that count as success.
func judgesStatus(policy *v1alpha1.TriggerPolicy) bool {
	return policy != nil && policy.Status != nil && policy.Status.Allow != nil
}
