// Package sensor is flint's sensor engine. New compiles an Argo Events Sensor
// once; per event, Dependencies finds the dependencies the event is for and
// Filter runs a dependency's transform and filters; ApplyParameters, Payload
// and ResolveParameter build trigger documents. The semantics are Argo
// Events' own, quirks included.
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
// are govaluate expressions (=~, !~ and in (…) are translated to expr-lang)
// over named gjson values; only true passes.
//
// Parameters. When the dependency has no event, the default value is used,
// or else the parameter is skipped. With an event and no key or template,
// the value is the default, or else the whole event as JSON with base64
// data. Otherwise the data selectors win over the context ones, and the
// template is tried first (a "" or "<no value>" result fails), then the key,
// then the default. Keys give raw JSON for values that are not strings,
// inserted raw only with useRawData; append and prepend make a string.
package sensor

import (
	"context"
	"errors"
	"fmt"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
)

// Sensor is a compiled Sensor: filters, templates, expressions, transforms
// and trigger parameters are compiled once by New. It is safe for concurrent use.
type Sensor struct {
	deps     []*dependency
	byName   map[string]*dependency
	triggers map[string]*Parameters
}

// dependency is one compiled event dependency.
type dependency struct {
	name, source, subject string
	transform             transformer // nil: none
	filters               *filterSet  // nil: every event passes
}

// New compiles a Sensor (filters, templates, expressions, transforms, trigger
// parameters) for repeated use; problems that would fail every event, such as
// a bad regexp or Lua chunk, are reported here with their field paths (e.g.
// `spec.dependencies[0].filters.data[1].value[0]: …`).
func New(s *v1alpha1.Sensor) (*Sensor, error) {
	if s == nil {
		return nil, errors.New("nil sensor")
	}
	out := &Sensor{
		byName:   make(map[string]*dependency, len(s.Spec.Dependencies)),
		triggers: make(map[string]*Parameters, len(s.Spec.Triggers)),
	}
	var errs []error
	for i := range s.Spec.Dependencies {
		d := &s.Spec.Dependencies[i]
		path := fmt.Sprintf("spec.dependencies[%d]", i)
		dep, err := newDependency(d)
		if err != nil {
			errs = append(errs, atField(path, err))
			continue
		}
		if _, dup := out.byName[d.Name]; dup {
			errs = append(errs, atField(path+".name", fmt.Errorf("duplicate dependency name %q", d.Name)))
			continue
		}
		out.deps = append(out.deps, dep)
		out.byName[d.Name] = dep
	}
	seen := make(map[string]bool, len(s.Spec.Triggers))
	for i := range s.Spec.Triggers {
		t := &s.Spec.Triggers[i]
		if t.Template == nil {
			continue
		}
		if seen[t.Template.Name] {
			errs = append(errs, atField(fmt.Sprintf("spec.triggers[%d].template.name", i),
				fmt.Errorf("duplicate trigger name %q", t.Template.Name)))
			continue
		}
		seen[t.Template.Name] = true
		if len(t.Parameters) == 0 {
			continue
		}
		params, err := CompileParameters(t.Parameters)
		if err != nil {
			errs = append(errs, atField(fmt.Sprintf("spec.triggers[%d].parameters", i), err))
			continue
		}
		out.triggers[t.Template.Name] = params
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func newDependency(d *v1alpha1.EventDependency) (*dependency, error) {
	dep := &dependency{name: d.Name, source: d.EventSourceName, subject: d.EventName}
	var errs []error
	if d.Name == "" {
		errs = append(errs, atField("name", errors.New("must not be empty")))
	}
	var err error
	if dep.transform, err = newTransformer(d.Transform); err != nil {
		errs = append(errs, atField("transform", err))
	}
	if d.Filters != nil {
		if dep.filters, err = newFilterSet(d.Filters, d.FiltersLogicalOperator); err != nil {
			errs = append(errs, err)
		}
	}
	return dep, errors.Join(errs...)
}

// Dependencies returns the names of the dependencies an event is for
// (eventSourceName == ev.Context.Source && eventName == ev.Context.Subject),
// in spec order; one event may be for several.
func (s *Sensor) Dependencies(ev *event.Event) []string {
	var names []string
	for _, d := range s.deps {
		if d.source == ev.Context.Source && d.subject == ev.Context.Subject {
			names = append(names, d.name)
		}
	}
	return names
}

// Filter runs the dependency's transform, then its filters, on one event and
// returns the (possibly transformed) event, whether it passed and, when it did
// not, a human-readable reason (e.g. `data filter body.message: "goodbye" does
// not match [hello hey]`). err is non-nil when the event could not be
// evaluated (unknown dependency, transform failure, missing path, data that
// is not JSON, script error), and the event then does not pass; an event that
// passes under filtersLogicalOperator "or" despite errors has them in reason
// and a nil err.
func (s *Sensor) Filter(ctx context.Context, dependency string, ev *event.Event) (out *event.Event, pass bool, reason string, err error) {
	fail := func(err error) (*event.Event, bool, string, error) {
		return ev, false, err.Error(), err
	}
	d := s.byName[dependency]
	switch {
	case d == nil:
		return fail(fmt.Errorf("%w %q", ErrUnknownDependency, dependency))
	case ev == nil:
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
	v := d.filters.eval(ctx, out)
	switch {
	case v.pass && v.err != nil:
		return out, true, "passed with filter errors: " + v.err.Error(), nil
	case v.err != nil:
		return out, false, v.err.Error(), v.err
	default:
		return out, v.pass, v.reason, nil
	}
}

// DependencyNames returns the names of all dependencies, in spec order.
func (s *Sensor) DependencyNames() []string {
	names := make([]string, len(s.deps))
	for i, d := range s.deps {
		names[i] = d.name
	}
	return names
}

// TriggerParameters returns the compiled `parameters` of the named trigger
// (applied to its template JSON), or nil when it has none.
func (s *Sensor) TriggerParameters(trigger string) *Parameters {
	return s.triggers[trigger]
}
