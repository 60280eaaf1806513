package filter

import "errors"

// The errors New wraps, with the path of the offending field, when a
// trigger's filters cannot be compiled; match them with errors.Is.
var (
	// ErrMultipleDialects means one filters element sets more than one dialect.
	ErrMultipleDialects = errors.New("multiple dialects set, a filter takes exactly one")
	// ErrEmptyDialect means a dialect is set but holds nothing to evaluate,
	// such as `exact: {}`, `all: []` or `not: {}`.
	ErrEmptyDialect = errors.New("dialect is set but empty")
	// ErrInvalidAttributeName means an attribute name does not match ^[a-z][a-z0-9]*$.
	ErrInvalidAttributeName = errors.New("invalid attribute name, must match ^[a-z][a-z0-9]*$")
	// ErrEmptyValue means an exact, prefix or suffix value is the empty string.
	ErrEmptyValue = errors.New("value must not be empty")
	// ErrInvalidExpression means a cesql expression does not parse.
	ErrInvalidExpression = errors.New("invalid CESQL expression")
)
