package filter

import "knative.dev/pkg/apis"

// newAttributes compiles the legacy `filter.attributes` map: every listed
// attribute must equal its value, and the value "" means the attribute must
// be present and non-empty. An empty map matches everything.
func newAttributes(attrs map[string]string) (Filter, *apis.FieldError) {
	if len(attrs) == 0 {
		return constant(true), nil
	}
	return newConditions(attrs, opEqual, true)
}
