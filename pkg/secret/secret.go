// Package secret resolves the Kubernetes Secret references that Argo YAML carries
// (`accessKey`, `token`, `secureHeaders`, …): Resolver is the seam, Local reads
// the environment or a directory of files (a mounted Secret volume, or `flint
// dev`). The cluster's Secrets are read by package kubesecret, so that this one
// links no client-go.
package secret

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ErrNotFound is returned when a reference names a secret or key that is not there.
var ErrNotFound = errors.New("secret not found")

// Resolver returns the value a secret key reference points at.
type Resolver interface {
	Resolve(ctx context.Context, ref *corev1.SecretKeySelector) (string, error)
}

// Local resolves references without a cluster: first from the environment
// variable FLINT_SECRET_<NAME>_<KEY> (upper-cased, non-alphanumerics as `_`), then
// from the file <Dir>/<name>/<key>, the layout of a mounted Secret volume.
type Local struct {
	Dir    string
	Getenv func(string) (string, bool)
}

// Resolve implements Resolver.
func (l Local) Resolve(_ context.Context, ref *corev1.SecretKeySelector) (string, error) {
	if ref == nil || ref.Name == "" || ref.Key == "" {
		return "", fmt.Errorf("secret reference needs name and key: %w", ErrNotFound)
	}
	getenv := l.Getenv
	if getenv == nil {
		getenv = os.LookupEnv
	}
	if v, ok := getenv(EnvName(ref.Name, ref.Key)); ok {
		return v, nil
	}
	if l.Dir != "" {
		b, err := os.ReadFile(filepath.Join(l.Dir, ref.Name, ref.Key))
		if err == nil {
			return strings.TrimRight(string(b), "\r\n"), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("reading secret %s/%s: %w", ref.Name, ref.Key, err)
		}
	}
	if ref.Optional != nil && *ref.Optional {
		return "", nil
	}
	return "", fmt.Errorf("secret %s key %s (set %s): %w", ref.Name, ref.Key, EnvName(ref.Name, ref.Key), ErrNotFound)
}

// EnvName is the environment variable Local reads for a secret key.
func EnvName(name, key string) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z':
				return r - 'a' + 'A'
			case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
				return r
			default:
				return '_'
			}
		}, s)
	}
	return "FLINT_SECRET_" + clean(name) + "_" + clean(key)
}
