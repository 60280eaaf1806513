package sensor

import (
	"context"
	"strings"

	"github.com/tidwall/gjson"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
)

// verdict is the outcome of a filter on one event: it passed, or it did not
// and reason says why, or it could not be evaluated (err).
type verdict struct {
	pass   bool
	reason string
	err    error
}

// input is one event as the filters read it; the data is converted to a
// string and checked for JSON validity once, when a filter first needs it.
type input struct {
	ev    *event.Event
	valid int8 // 0 unknown, 1 valid JSON, -1 not JSON
	// checks collects what each filter that ran found, when the event is
	// being explained; nil otherwise, and then nothing is recorded.
	checks *[]FilterCheck
}

// record adds a check to the explanation, if one is being made.
func (in *input) record(c FilterCheck) {
	if in.checks != nil {
		*in.checks = append(*in.checks, c)
	}
}

// explaining reports whether the filters record their checks.
func (in *input) explaining() bool { return in.checks != nil }

// json is the event's data, read in place: filters only read it, and what
// gjson.GetBytes returns from it is a copy.
func (in *input) json() []byte { return in.ev.Data }

func (in *input) validJSON() bool {
	if in.valid == 0 {
		in.valid = -1
		if gjson.ValidBytes(in.json()) {
			in.valid = 1
		}
	}
	return in.valid == 1
}

// filterKind is one kind of filter (exprs, data, context, time, script).
type filterKind interface {
	eval(ctx context.Context, in *input) verdict
}

// filterSet is the compiled `filters` of a dependency together with its
// filtersLogicalOperator; kinds are in Argo Events' evaluation order.
type filterSet struct {
	or    bool
	kinds []filterKind
}

// newFilterSet compiles a dependency's `filters`; problem paths are relative
// to the dependency (`filters.data[0].value[1]`, `filtersLogicalOperator`).
func newFilterSet(f *v1alpha1.EventDependencyFilter, op v1alpha1.LogicalOperator) (*filterSet, *apis.FieldError) {
	or, errs := logicalOperator(op, "filtersLogicalOperator")
	fs := &filterSet{or: or}
	var ferrs *apis.FieldError
	add := func(k filterKind, err *apis.FieldError) {
		if err != nil {
			ferrs = ferrs.Also(err)
			return
		}
		fs.kinds = append(fs.kinds, k)
	}
	if len(f.Exprs) > 0 {
		k, err := newExprFilters(f.Exprs, f.ExprLogicalOperator)
		add(k, err)
	}
	if len(f.Data) > 0 {
		k, err := newDataFilters(f.Data, f.DataLogicalOperator)
		add(k, err)
	}
	if f.Context != nil {
		k, err := newContextFilter(f.Context)
		add(k, err)
	}
	if f.Time != nil {
		k, err := newTimeFilter(f.Time)
		add(k, err.ViaField("time"))
	}
	if f.Script != "" {
		k, err := newScriptFilter(f.Script)
		add(k, err)
	}
	return fs, errs.Also(ferrs.ViaField("filters"))
}

// eval runs the filter kinds in Argo Events' order (exprs, data, context,
// time, script) and combines them as its code does. With "and" (the default)
// an error stops evaluation and every kind must pass. With "or" one defined
// kind passing is enough, but an error fails the event all the same: the
// errors of the exprs, data and time kinds are collected while the other
// kinds run, and a script error stops at once. (Argo's filterEvent returns
// "passed" together with the collected errors, and its exported Filter turns
// any error into "not passed", so its sensor discards the event.)
func (f *filterSet) eval(ctx context.Context, ev *event.Event) verdict {
	return f.evalInput(ctx, &input{ev: ev})
}

// evalInput is eval on an input that may record the checks of the filters.
func (f *filterSet) evalInput(ctx context.Context, in *input) verdict {
	var errs []error
	var reasons []string
	pass := !f.or
	for _, k := range f.kinds {
		v := k.eval(ctx, in)
		if in.explaining() {
			explainKind(ctx, in, k, v)
		}
		if _, script := k.(*scriptFilter); script && v.err != nil {
			return v
		}
		switch {
		case v.err != nil && !f.or:
			return v
		case v.err != nil:
			errs = append(errs, v.err)
		case v.pass:
			pass = pass || f.or
		default:
			pass = pass && f.or
			reasons = append(reasons, v.reason)
		}
	}
	switch {
	case len(errs) > 0:
		return verdict{err: joinErrors(errs)}
	case pass:
		return verdict{pass: true}
	case len(reasons) == 0:
		return verdict{reason: "no filter is defined to pass with filtersLogicalOperator or"}
	case !f.or:
		return verdict{reason: reasons[0]}
	default:
		return verdict{reason: strings.Join(reasons, " / ")}
	}
}
