// Package filter decides, per Knative Trigger, whether the broker dispatcher
// delivers an event. A trigger's filters are compiled once by New; the result
// is immutable and its Match is safe for concurrent use.
package filter

import (
	cloudevents "github.com/cloudevents/sdk-go/v2"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
)

// Filter decides whether an event matches a trigger.
type Filter interface {
	Match(ev *cloudevents.Event) bool
}

// New compiles a trigger's filters: spec.filters (SubscriptionsAPI dialects)
// when non-empty, else legacy spec.filter.attributes; nil/empty → match
// everything. It reports every problem, with paths relative to the spec
// (e.g. "filters[1].exact"); the caller puts in where the spec sits.
func New(spec *eventingv1.TriggerSpec) (Filter, *apis.FieldError) {
	if spec == nil {
		return constant(true), nil
	}
	if len(spec.Filters) > 0 {
		f, err := compileList(spec.Filters, joinAll)
		return f, err.ViaField("filters")
	}
	if spec.Filter != nil {
		f, err := newAttributes(spec.Filter.Attributes)
		return f, err.ViaField("filter", "attributes")
	}
	return constant(true), nil
}

// constant is a filter whose answer does not depend on the event: true for an
// absent or empty filter, false for the negation of one.
type constant bool

// Match implements Filter.
func (c constant) Match(*cloudevents.Event) bool { return bool(c) }

// compileList compiles the elements of a filter list and joins them with
// combine (joinAll or joinAny); problems are at the elements' indexes.
func compileList(list []eventingv1.SubscriptionsAPIFilter, combine func([]Filter) Filter) (Filter, *apis.FieldError) {
	compiled := make([]Filter, 0, len(list))
	var errs *apis.FieldError
	for i := range list {
		f, err := compile(&list[i])
		if err != nil {
			errs = errs.Also(err.ViaIndex(i))
			continue
		}
		compiled = append(compiled, f)
	}
	if errs != nil {
		return nil, errs
	}
	return combine(compiled), nil
}

// compile turns one SubscriptionsAPI filter element into a Filter. An element
// without any dialect matches everything; an element with more than one
// dialect, or with a dialect that is set but empty, is a problem.
func compile(f *eventingv1.SubscriptionsAPIFilter) (Filter, *apis.FieldError) {
	var set []string
	if f.Exact != nil {
		set = append(set, "exact")
	}
	if f.Prefix != nil {
		set = append(set, "prefix")
	}
	if f.Suffix != nil {
		set = append(set, "suffix")
	}
	if f.All != nil {
		set = append(set, "all")
	}
	if f.Any != nil {
		set = append(set, "any")
	}
	if f.Not != nil {
		set = append(set, "not")
	}
	if f.CESQL != "" {
		set = append(set, "cesql")
	}
	switch len(set) {
	case 0:
		return constant(true), nil
	case 1:
	default:
		return nil, apis.ErrGeneric(ErrMultipleDialects.Error(), set...)
	}

	var (
		compiled Filter
		err      *apis.FieldError
	)
	switch set[0] {
	case "exact":
		compiled, err = newExact(f.Exact)
	case "prefix":
		compiled, err = newPrefix(f.Prefix)
	case "suffix":
		compiled, err = newSuffix(f.Suffix)
	case "all":
		compiled, err = newAll(f.All)
	case "any":
		compiled, err = newAny(f.Any)
	case "not":
		compiled, err = newNot(f.Not)
	default:
		compiled, err = newCESQL(f.CESQL)
	}
	if err != nil {
		return nil, err.ViaField(set[0])
	}
	return compiled, nil
}
