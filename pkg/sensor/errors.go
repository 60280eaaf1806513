package sensor

import (
	"errors"
	"strings"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

var (
	// ErrTriggerFailed is wrapped by every error Handle returns for an event
	// the broker should deliver again: a trigger (and its dlqTrigger) failed,
	// or the condition state could not be read or written; unless the error
	// also wraps ErrPermanent, when the broker dead-letters it at once.
	ErrTriggerFailed = errors.New("trigger failed")
	// ErrPathNotFound is wrapped by filter and parameter errors when a path does not exist in the event.
	ErrPathNotFound = errors.New("path does not exist")
	// ErrDataNotJSON is wrapped by filter errors when the event data is not valid JSON.
	ErrDataNotJSON = errors.New("event data is not valid JSON")
)

// errorList is several errors reported together, joined with " / " as Argo
// Events joins the errors of filters combined with "or".
type errorList []error

func (l errorList) Error() string {
	msgs := make([]string, len(l))
	for i, err := range l {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, " / ")
}

func (l errorList) Unwrap() []error { return l }

// joinErrors returns nil for no errors, the error itself for one, an errorList otherwise.
func joinErrors(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	default:
		return errorList(errs)
	}
}

// oneLineError keeps the first line of an error's message (expr-lang adds a
// source snippet, gopher-lua a stack traceback) and still unwraps to it.
type oneLineError struct{ err error }

func (e oneLineError) Error() string {
	msg, _, _ := strings.Cut(e.err.Error(), "\n")
	return strings.TrimSpace(msg)
}

func (e oneLineError) Unwrap() error { return e.err }

// oneOf reports an invalid value at field when v is not among allowed; ""
// is allowed only when listed, and not shown.
func oneOf(v, field string, allowed ...string) *apis.FieldError {
	var shown []string
	for _, a := range allowed {
		if v == a {
			return nil
		}
		if a != "" {
			shown = append(shown, a)
		}
	}
	return apis.ErrInvalidValue(v, field, "must be one of "+strings.Join(shown, ", "))
}

// logicalOperator reads a logical operator at field: "and" or "" is false,
// "or" is true, anything else is a problem.
func logicalOperator(op v1alpha1.LogicalOperator, field string) (or bool, _ *apis.FieldError) {
	if err := oneOf(string(op), field, "", string(v1alpha1.AndLogicalOperator), string(v1alpha1.OrLogicalOperator)); err != nil {
		return false, err
	}
	return op == v1alpha1.OrLogicalOperator, nil
}

// requireString reports field as missing when v is blank.
func requireString(v, field string) *apis.FieldError {
	if strings.TrimSpace(v) == "" {
		return apis.ErrMissingField(field)
	}
	return nil
}
