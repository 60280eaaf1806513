package filter

import "knative.dev/pkg/apis"

// newPrefix compiles a `prefix` dialect: every listed attribute must start
// with its value, case-sensitively.
func newPrefix(attrs map[string]string) (Filter, *apis.FieldError) {
	if len(attrs) == 0 {
		return nil, problem(ErrEmptyDialect)
	}
	return newConditions(attrs, opPrefix, false)
}
