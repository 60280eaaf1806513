package sensor

import (
	"context"
	"errors"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
)

// dependency is one compiled event dependency.
type dependency struct {
	name, source, subject string
	transform             transformer // nil: none
	filters               *filterSet  // nil: every event passes
}

// newDependency compiles a dependency; problem paths are relative to it.
func newDependency(d *v1alpha1.EventDependency) (*dependency, *apis.FieldError) {
	dep := &dependency{name: d.Name, source: d.EventSourceName, subject: d.EventName}
	errs := requireString(d.Name, "name").Also(
		requireString(d.EventSourceName, "eventSourceName"),
		requireString(d.EventName, "eventName"),
	)
	tr, err := newTransformer(d.Transform)
	errs = errs.Also(err.ViaField("transform"))
	dep.transform = tr
	if d.Filters != nil {
		fs, err := newFilterSet(d.Filters, d.FiltersLogicalOperator)
		errs = errs.Also(err)
		dep.filters = fs
	} else {
		_, err := logicalOperator(d.FiltersLogicalOperator, "filtersLogicalOperator")
		errs = errs.Also(err)
	}
	return dep, errs
}

// matches reports whether the event is for this dependency: its source is
// the dependency's eventSourceName and its subject the eventName.
func (d *dependency) matches(ev *event.Event) bool {
	return d.source == ev.Context.Source && d.subject == ev.Context.Subject
}

// filter runs the dependency's transform, then its filters, on one event and
// returns the (possibly transformed) event, whether it passed and, when it did
// not, a human-readable reason (e.g. `data filter body.message: "goodbye" does
// not match [hello hey]`). err is non-nil when the event could not be
// evaluated (transform failure, missing path, data that is not JSON, script
// error), and the event then does not pass, under filtersLogicalOperator "or"
// too, even when another kind of filter passed (as Argo Events discards it).
func (d *dependency) filter(ctx context.Context, ev *event.Event) (out *event.Event, pass bool, reason string, err error) {
	return d.explainFilter(ctx, ev, nil)
}

// explainFilter is filter that also records, in checks when it is not nil,
// what each filter that ran found and what it compared it with.
func (d *dependency) explainFilter(ctx context.Context, ev *event.Event, checks *[]FilterCheck) (out *event.Event, pass bool, reason string, err error) {
	fail := func(err error) (*event.Event, bool, string, error) {
		return ev, false, err.Error(), err
	}
	if ev == nil {
		return fail(errors.New("nil event"))
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	out = ev
	if d.transform != nil {
		if out, err = d.transform.apply(ctx, ev); err != nil {
			return fail(err)
		}
	}
	if d.filters == nil {
		return out, true, "", nil
	}
	v := d.filters.evalInput(ctx, &input{ev: out, checks: checks})
	switch {
	case v.err != nil:
		return out, false, v.err.Error(), v.err
	default:
		return out, v.pass, v.reason, nil
	}
}
