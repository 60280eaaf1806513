// Package filter decides, per Knative Trigger, whether the broker dispatcher
// delivers an event. A trigger's filters are compiled once by New; the result
// is immutable and its Match is safe for concurrent use.
package filter

import (
	"fmt"
	"strings"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
)

// Filter decides whether an event matches a trigger.
type Filter interface {
	Match(ev *cloudevents.Event) bool
}

// New compiles a trigger's filters: spec.filters (SubscriptionsAPI dialects)
// when non-empty, else legacy spec.filter.attributes; nil/empty → match everything.
func New(spec *eventingv1.TriggerSpec) (Filter, error) {
	if spec == nil {
		return constant(true), nil
	}
	if len(spec.Filters) > 0 {
		return compileList(spec.Filters, "filters", joinAll)
	}
	if spec.Filter != nil {
		return newAttributes(spec.Filter.Attributes, "filter.attributes")
	}
	return constant(true), nil
}

// constant is a filter whose answer does not depend on the event: true for an
// absent or empty filter, false for the negation of one.
type constant bool

// Match implements Filter.
func (c constant) Match(*cloudevents.Event) bool { return bool(c) }

// compileList compiles the elements of a filter list found at path and joins
// them with combine (allOf or anyOf).
func compileList(list []eventingv1.SubscriptionsAPIFilter, path string, combine func([]Filter) Filter) (Filter, error) {
	compiled := make([]Filter, 0, len(list))
	for i := range list {
		f, err := compile(&list[i], fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		compiled = append(compiled, f)
	}
	return combine(compiled), nil
}

// compile turns one SubscriptionsAPI filter element found at path into a
// Filter. An element without any dialect matches everything; an element with
// more than one dialect, or with a dialect that is set but empty, is an error.
func compile(f *eventingv1.SubscriptionsAPIFilter, path string) (Filter, error) {
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
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrMultipleDialects, strings.Join(set, ", "))
	}

	switch set[0] {
	case "exact":
		return newExact(f.Exact, path+".exact")
	case "prefix":
		return newPrefix(f.Prefix, path+".prefix")
	case "suffix":
		return newSuffix(f.Suffix, path+".suffix")
	case "all":
		return newAll(f.All, path+".all")
	case "any":
		return newAny(f.Any, path+".any")
	case "not":
		return newNot(f.Not, path+".not")
	default:
		return newCESQL(f.CESQL, path+".cesql")
	}
}
