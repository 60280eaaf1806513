package conn

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/secret"
)

// SecretValue reads the secret the field at path refers to, as secret.Value
// does, with problems as an *apis.FieldError at path that a caller moves
// with ViaField. The message names the secret, never its value.
func SecretValue(ctx context.Context, secrets secret.Resolver, ref *corev1.SecretKeySelector, path string) (string, *apis.FieldError) {
	v, err := secret.Value(ctx, secrets, ref, path)
	if err != nil {
		var fe *secret.FieldError
		if errors.As(err, &fe) {
			return "", apis.ErrGeneric(fe.Message(), path)
		}
		return "", apis.ErrGeneric(err.Error(), path)
	}
	return v, nil
}
