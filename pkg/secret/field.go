package secret

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// ErrEmpty is wrapped by the error of a reference whose secret holds an empty
// value (or is optional and absent): a reference that names a secret means a
// value, and an empty token or signing key would turn a check off.
var ErrEmpty = errors.New("the secret is empty")

// ErrNoResolver is wrapped by the error of a reference read without a Resolver.
var ErrNoResolver = errors.New("no secret resolver configured")

// FieldError is the error of a secret reference that gave no value. It names
// the field path of the reference in the YAML and the secret's name and key,
// never a value, and wraps the cause (ErrNotFound, ErrEmpty, ErrNoResolver or
// the Resolver's own error).
type FieldError struct {
	// Path is the field that holds the reference, as the caller named it
	// (`tls.caCertSecret`, `spec.github[push].webhookSecret`).
	Path string
	// Name and Key name the secret; empty when the reference was missing.
	Name, Key string
	// Err is the cause.
	Err error
}

// Error reads `<path>: <cause>`, with the secret named where the cause does not name it.
func (e *FieldError) Error() string { return e.Path + ": " + e.Message() }

// Message is the error without its path, for callers that put the path in
// an *apis.FieldError of their own.
func (e *FieldError) Message() string {
	switch {
	case errors.Is(e.Err, ErrEmpty):
		return fmt.Sprintf("%v (secret %s key %s)", e.Err, e.Name, e.Key)
	case e.Name == "" && e.Key == "", errors.Is(e.Err, ErrNoResolver):
		return e.Err.Error()
	default:
		return "resolving secret: " + e.Err.Error()
	}
}

// Unwrap returns the cause.
func (e *FieldError) Unwrap() error { return e.Err }

// Value resolves the reference held by the field at path through r: the one
// way a plugin reads a secret. A missing reference, a missing Resolver, a
// secret that cannot be read and an empty value are all a *FieldError at
// path; callers that find a reference optional check for nil first.
func Value(ctx context.Context, r Resolver, ref *corev1.SecretKeySelector, path string) (string, error) {
	if ref == nil {
		return "", &FieldError{Path: path, Err: errors.New("missing secret reference")}
	}
	if r == nil {
		return "", &FieldError{Path: path, Name: ref.Name, Key: ref.Key, Err: ErrNoResolver}
	}
	v, err := r.Resolve(ctx, ref)
	if err != nil {
		return "", &FieldError{Path: path, Name: ref.Name, Key: ref.Key, Err: err}
	}
	if v == "" {
		return "", &FieldError{Path: path, Name: ref.Name, Key: ref.Key, Err: ErrEmpty}
	}
	return v, nil
}
