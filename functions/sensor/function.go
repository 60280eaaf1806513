// Package sensor is the kn func runtime of one Sensor: the broker delivers each
// matching event to Handle, which runs the dependency filters, evaluates the
// trigger conditions, parameterizes the templates and fires the triggers.
// It answers success only after every trigger the event fired succeeded, so
// the broker redelivers on failure (at-least-once).
package sensor

import (
	"context"
	"errors"
	"fmt"
	"sync"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	engine "github.com/flintevents/flint/pkg/sensor"
	"github.com/flintevents/flint/triggers"
)

// ErrTriggerFailed wraps every trigger failure Handle returns; the HTTP edge
// answers it with 500 so the broker redelivers the event.
var ErrTriggerFailed = errors.New("trigger failed")

// Function runs one Sensor.
type Function struct {
	name     string
	engine   *engine.Sensor
	triggers []*runner
	logger   *zap.SugaredLogger
	done     *seen
}

// New compiles a Sensor and builds its triggers from the trigger registry. A
// trigger type that is not registered is an error naming its field path.
func New(s *v1alpha1.Sensor, deps triggers.Deps) (*Function, error) {
	if deps.Logger == nil {
		deps.Logger = zap.NewNop().Sugar()
	}
	eng, err := engine.New(s)
	if err != nil {
		return nil, fmt.Errorf("sensor %s: %w", s.Name, err)
	}
	f := &Function{
		name:   s.Name,
		engine: eng,
		logger: deps.Logger.With("sensor", s.Name),
		done:   newSeen(4096),
	}
	all := make([]string, 0, len(s.Spec.Dependencies))
	for _, d := range s.Spec.Dependencies {
		all = append(all, d.Name)
	}
	for i := range s.Spec.Triggers {
		path := fmt.Sprintf("spec.triggers[%d]", i)
		r, err := newRunner(s.Name, &s.Spec.Triggers[i], all, deps, path)
		if err != nil {
			return nil, err
		}
		f.triggers = append(f.triggers, r)
	}
	return f, nil
}

// Handle processes one delivered event. It returns nil when the event was
// handled (fired, filtered out, or not for this sensor) and an error wrapping
// ErrTriggerFailed when a trigger failed and the event should be redelivered.
// It never returns a reply event.
func (f *Function) Handle(ctx context.Context, ce cloudevents.Event) (*cloudevents.Event, error) {
	ev := event.FromCloudEvent(ce)
	log := f.logger.With("eventID", ev.Context.ID, "eventSource", ev.Context.Source, "eventName", ev.Context.Subject)
	deps := f.engine.Dependencies(ev)
	if len(deps) == 0 {
		log.Debugw("event is for no dependency of this sensor")
		return nil, nil
	}
	log.Infow("event received", "dependencies", deps)

	passed := map[string]*event.Event{}
	for _, dep := range deps {
		out, pass, reason, err := f.engine.Filter(ctx, dep, ev)
		switch {
		case err != nil:
			log.Warnw("dependency filtered out", "dependency", dep, "reason", reason, zap.Error(err))
		case !pass:
			log.Infow("dependency filtered out", "dependency", dep, "reason", reason)
		default:
			passed[dep] = out
		}
	}
	if len(passed) == 0 {
		return nil, nil
	}

	type round struct {
		r      *runner
		events map[string]*event.Event
	}
	var rounds []round
	for _, r := range f.triggers {
		if events := r.offer(passed); events != nil {
			rounds = append(rounds, round{r, events})
		}
	}
	// Triggers of one event run concurrently, as in Argo; a single one runs
	// on the request's goroutine.
	errs := make([]error, len(rounds))
	if len(rounds) == 1 {
		errs[0] = f.fire(ctx, rounds[0].r, rounds[0].events, log)
	} else {
		var wg sync.WaitGroup
		for i, rd := range rounds {
			wg.Go(func() { errs[i] = f.fire(ctx, rd.r, rd.events, log) })
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTriggerFailed, err)
	}
	return nil, nil
}

// fire runs one trigger for a satisfied set of events, once per idempotency key:
// a redelivered event does not fire a trigger that already succeeded for it.
func (f *Function) fire(ctx context.Context, r *runner, events map[string]*event.Event, log *zap.SugaredLogger) error {
	key := idempotencyKey(f.name, r.name, events)
	if f.done.has(key) {
		log.Infow("trigger already fired for these events", "trigger", r.name)
		return nil
	}
	res, err := r.run(ctx, f.name, key, events)
	if err != nil {
		// A failed round keeps the events so that the redelivery finds the
		// condition satisfied again.
		r.restore(events)
		log.Errorw("trigger failed", "trigger", r.name, "triggeredBy", eventIDs(events), zap.Error(err))
		return fmt.Errorf("trigger %s: %w", r.name, err)
	}
	f.done.add(key)
	log.Infow("trigger fired", "trigger", r.name, "triggeredBy", eventIDs(events), "status", res.StatusCode)
	return nil
}
