package sensor

import (
	"errors"
	"strings"
)

var (
	// ErrUnknownDependency is returned by Filter for a dependency name the Sensor does not have.
	ErrUnknownDependency = errors.New("unknown dependency")
	// ErrPathNotFound is wrapped by filter errors when a data path does not exist in the event data.
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

// fieldError is a problem at a field path of the Sensor spec, such as
// `spec.dependencies[0].filters.data[1].value[0]`.
type fieldError struct {
	path string
	err  error
}

func (e *fieldError) Error() string { return e.path + ": " + e.err.Error() }

func (e *fieldError) Unwrap() error { return e.err }

// atField puts err at path: a fieldError gets path as a prefix of its own
// path, and each error of a joined error is put at path in turn.
func atField(path string, err error) error {
	switch e := err.(type) {
	case nil:
		return nil
	case *fieldError:
		sep := "."
		if strings.HasPrefix(e.path, "[") {
			sep = ""
		}
		return &fieldError{path: path + sep + e.path, err: e.err}
	case interface{ Unwrap() []error }:
		errs := e.Unwrap()
		out := make([]error, len(errs))
		for i, err := range errs {
			out[i] = atField(path, err)
		}
		return errors.Join(out...)
	default:
		return &fieldError{path: path, err: err}
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
