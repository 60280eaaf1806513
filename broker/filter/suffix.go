package filter

import "knative.dev/pkg/apis"

// newSuffix compiles a `suffix` dialect: every listed attribute must end
// with its value, case-sensitively.
func newSuffix(attrs map[string]string) (Filter, *apis.FieldError) {
	if len(attrs) == 0 {
		return nil, problem(ErrEmptyDialect)
	}
	return newConditions(attrs, opSuffix, false)
}
