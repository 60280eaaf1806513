package filter

import (
	cloudevents "github.com/cloudevents/sdk-go/v2"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
)

// allFilter passes when every one of its filters passes.
type allFilter []Filter

// Match implements Filter.
func (fs allFilter) Match(ev *cloudevents.Event) bool {
	for _, f := range fs {
		if !f.Match(ev) {
			return false
		}
	}
	return true
}

// newAll compiles an `all` dialect; problems are relative to the list.
func newAll(list []eventingv1.SubscriptionsAPIFilter) (Filter, *apis.FieldError) {
	if len(list) == 0 {
		return nil, problem(ErrEmptyDialect)
	}
	return compileList(list, joinAll)
}

// joinAll joins filters with AND: filters that always pass are dropped, one
// that never passes decides, and nothing left always passes.
func joinAll(fs []Filter) Filter {
	kept := make(allFilter, 0, len(fs))
	for _, f := range fs {
		if c, ok := f.(constant); ok {
			if !c {
				return c
			}
			continue
		}
		kept = append(kept, f)
	}
	switch len(kept) {
	case 0:
		return constant(true)
	case 1:
		return kept[0]
	}
	return kept
}
