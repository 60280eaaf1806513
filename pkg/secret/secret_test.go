package secret

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func ref(name, key string) *corev1.SecretKeySelector {
	return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
}

func TestLocal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "aws"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "aws", "secretkey"), []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FLINT_SECRET_MY_TOKEN_TOKEN": "from-env"}
	l := Local{Dir: dir, Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	yes := true
	optional := ref("missing", "k")
	optional.Optional = &yes

	tests := []struct {
		name    string
		ref     *corev1.SecretKeySelector
		want    string
		wantErr bool
	}{
		{"env", ref("my-token", "token"), "from-env", false},
		{"file trims newline", ref("aws", "secretkey"), "s3cr3t", false},
		{"missing", ref("aws", "nope"), "", true},
		{"optional missing", optional, "", false},
		{"nil", nil, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := l.Resolve(context.Background(), tc.ref)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
