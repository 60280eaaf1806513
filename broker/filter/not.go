package filter

import (
	cloudevents "github.com/cloudevents/sdk-go/v2"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
)

// notFilter passes when its filter does not.
type notFilter struct{ f Filter }

// Match implements Filter.
func (n notFilter) Match(ev *cloudevents.Event) bool { return !n.f.Match(ev) }

// newNot compiles a `not` dialect. `not: {}` is refused: the negation of an
// empty filter is ambiguous (Knative treats it as no filter).
func newNot(inner *eventingv1.SubscriptionsAPIFilter) (Filter, *apis.FieldError) {
	if isEmpty(inner) {
		return nil, problem(ErrEmptyDialect)
	}
	f, err := compile(inner)
	if err != nil {
		return nil, err
	}
	if c, ok := f.(constant); ok {
		return !c, nil
	}
	return notFilter{f: f}, nil
}

// isEmpty reports whether a filter element sets no dialect at all.
func isEmpty(f *eventingv1.SubscriptionsAPIFilter) bool {
	return f.Exact == nil && f.Prefix == nil && f.Suffix == nil &&
		f.All == nil && f.Any == nil && f.Not == nil && f.CESQL == ""
}
