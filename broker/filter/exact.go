package filter

import "knative.dev/pkg/apis"

// newExact compiles an `exact` dialect: every listed attribute must equal
// its value, case-sensitively.
func newExact(attrs map[string]string) (Filter, *apis.FieldError) {
	if len(attrs) == 0 {
		return nil, problem(ErrEmptyDialect)
	}
	return newConditions(attrs, opEqual, false)
}
