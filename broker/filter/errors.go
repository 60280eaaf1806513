package filter

import (
	"errors"

	"knative.dev/pkg/apis"
)

// The problems New reports when a trigger's filters cannot be compiled. Each
// is the Message of an *apis.FieldError whose path names the offending field
// relative to the TriggerSpec (e.g. "filters[1].exact"); match a problem with
// its Message, e.g. fe.Message == ErrEmptyDialect.Error().
var (
	// ErrMultipleDialects means one filters element sets more than one
	// dialect; the paths name every dialect set.
	ErrMultipleDialects = errors.New("multiple dialects set, a filter takes exactly one")
	// ErrEmptyDialect means a dialect is set but holds nothing to evaluate,
	// such as `exact: {}`, `all: []` or `not: {}`.
	ErrEmptyDialect = errors.New("dialect is set but empty")
	// ErrInvalidAttributeName means an attribute name does not match ^[a-z][a-z0-9]*$.
	ErrInvalidAttributeName = errors.New("invalid attribute name, must match ^[a-z][a-z0-9]*$")
	// ErrEmptyValue means an exact, prefix or suffix value is the empty string.
	ErrEmptyValue = errors.New("value must not be empty")
	// ErrInvalidExpression means a cesql expression does not parse; the
	// details hold the expression and the parser's reason.
	ErrInvalidExpression = errors.New("invalid CESQL expression")
)

// problem reports err at the field being compiled; callers put the path in
// with ViaField, ViaIndex and ViaKey.
func problem(err error) *apis.FieldError {
	return apis.ErrGeneric(err.Error(), apis.CurrentField)
}
