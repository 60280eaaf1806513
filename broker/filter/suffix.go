package filter

import "fmt"

// newSuffix compiles a `suffix` dialect found at path: every listed attribute
// must end with its value, case-sensitively.
func newSuffix(attrs map[string]string, path string) (Filter, error) {
	if len(attrs) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrEmptyDialect)
	}
	return newConditions(attrs, opSuffix, false, path)
}
