package filter

import "fmt"

// newExact compiles an `exact` dialect found at path: every listed attribute
// must equal its value, case-sensitively.
func newExact(attrs map[string]string, path string) (Filter, error) {
	if len(attrs) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrEmptyDialect)
	}
	return newConditions(attrs, opEqual, false, path)
}
