package filter

import "fmt"

// newPrefix compiles a `prefix` dialect found at path: every listed attribute
// must start with its value, case-sensitively.
func newPrefix(attrs map[string]string, path string) (Filter, error) {
	if len(attrs) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrEmptyDialect)
	}
	return newConditions(attrs, opPrefix, false, path)
}
