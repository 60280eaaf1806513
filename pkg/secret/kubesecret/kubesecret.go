// Package kubesecret resolves secret references from the cluster's Secrets
// through client-go. It is apart from package secret so that the images that
// never read a cluster (the push sources) link no client-go.
package kubesecret

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/flintevents/flint/pkg/secret"
)

// Resolver resolves references from the Secrets of one namespace, as an Argo
// Events pod reads them. Values are read at each call: a rotated Secret takes
// effect without a restart.
type Resolver struct {
	// Client reads the Secrets.
	Client corev1client.SecretsGetter
	// Namespace is the namespace of the Secrets references name.
	Namespace string
}

var _ secret.Resolver = Resolver{}

// Resolve implements secret.Resolver; a missing Secret or key is
// secret.ErrNotFound, or "" when the reference is optional.
func (k Resolver) Resolve(ctx context.Context, ref *corev1.SecretKeySelector) (string, error) {
	if ref == nil || ref.Name == "" || ref.Key == "" {
		return "", fmt.Errorf("secret reference needs name and key: %w", secret.ErrNotFound)
	}
	optional := ref.Optional != nil && *ref.Optional
	s, err := k.Client.Secrets(k.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err) && optional:
		return "", nil
	case apierrors.IsNotFound(err):
		return "", fmt.Errorf("secret %s/%s: %w", k.Namespace, ref.Name, secret.ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("reading secret %s/%s: %w", k.Namespace, ref.Name, err)
	}
	v, ok := s.Data[ref.Key]
	if !ok {
		if sv, ok := s.StringData[ref.Key]; ok {
			return sv, nil
		}
		if optional {
			return "", nil
		}
		return "", fmt.Errorf("secret %s/%s has no key %s: %w", k.Namespace, ref.Name, ref.Key, secret.ErrNotFound)
	}
	return string(v), nil
}
