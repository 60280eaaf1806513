package secret

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// Kube resolves references from the cluster's Secrets in one namespace, as
// an Argo Events pod reads them. Values are read at each call: a rotated
// Secret takes effect without a restart.
type Kube struct {
	Client    corev1client.SecretsGetter
	Namespace string
}

// Resolve implements Resolver.
func (k Kube) Resolve(ctx context.Context, ref *corev1.SecretKeySelector) (string, error) {
	if ref == nil || ref.Name == "" || ref.Key == "" {
		return "", fmt.Errorf("secret reference needs name and key: %w", ErrNotFound)
	}
	optional := ref.Optional != nil && *ref.Optional
	s, err := k.Client.Secrets(k.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err) && optional:
		return "", nil
	case apierrors.IsNotFound(err):
		return "", fmt.Errorf("secret %s/%s: %w", k.Namespace, ref.Name, ErrNotFound)
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
		return "", fmt.Errorf("secret %s/%s has no key %s: %w", k.Namespace, ref.Name, ref.Key, ErrNotFound)
	}
	return string(v), nil
}
