package kubesecret_test

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/pkg/secret/kubesecret"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

func TestResolver(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	_, err := env.Clients.Core.Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "aws"},
		Data:       map[string][]byte{"accesskey": []byte("AKIDEXAMPLE")},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := kubesecret.Resolver{Client: env.Clients.Core, Namespace: ns}
	yes := true
	sel := func(name, key string, optional bool) *corev1.SecretKeySelector {
		s := &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
		if optional {
			s.Optional = &yes
		}
		return s
	}
	tests := []struct {
		name     string
		ref      *corev1.SecretKeySelector
		want     string
		notFound bool
	}{
		{name: "key of a secret", ref: sel("aws", "accesskey", false), want: "AKIDEXAMPLE"},
		{name: "missing key", ref: sel("aws", "secretkey", false), notFound: true},
		{name: "missing secret", ref: sel("gcp", "key", false), notFound: true},
		{name: "optional missing key", ref: sel("aws", "secretkey", true), want: ""},
		{name: "optional missing secret", ref: sel("gcp", "key", true), want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Resolve(ctx, tc.ref)
			if tc.notFound {
				if !errors.Is(err, secret.ErrNotFound) {
					t.Fatalf("Resolve = %q, %v; want ErrNotFound", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Resolve = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
