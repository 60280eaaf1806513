package filter

import (
	cloudevents "github.com/cloudevents/sdk-go/v2"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
)

// anyFilter passes when at least one of its filters passes.
type anyFilter []Filter

// Match implements Filter.
func (fs anyFilter) Match(ev *cloudevents.Event) bool {
	for _, f := range fs {
		if f.Match(ev) {
			return true
		}
	}
	return false
}

// newAny compiles an `any` dialect; problems are relative to the list.
func newAny(list []eventingv1.SubscriptionsAPIFilter) (Filter, *apis.FieldError) {
	if len(list) == 0 {
		return nil, problem(ErrEmptyDialect)
	}
	return compileList(list, joinAny)
}

// joinAny joins filters with OR: filters that never pass are dropped, one
// that always passes decides, and nothing left never passes.
func joinAny(fs []Filter) Filter {
	kept := make(anyFilter, 0, len(fs))
	for _, f := range fs {
		if c, ok := f.(constant); ok {
			if c {
				return c
			}
			continue
		}
		kept = append(kept, f)
	}
	switch len(kept) {
	case 0:
		return constant(false)
	case 1:
		return kept[0]
	}
	return kept
}
