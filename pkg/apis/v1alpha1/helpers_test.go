package v1alpha1

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"
)

// decodeFile strictly decodes testdata/<name> into out.
func decodeFile(t *testing.T, name string, out any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, out); err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
}

// flat renders every diagnostic of fe as "path: message", sorted.
func flat(fe *apis.FieldError) []string {
	var out []string
	for _, e := range fe.WrappedErrors() {
		for _, p := range e.Paths {
			out = append(out, p+": "+e.Message)
		}
	}
	sort.Strings(out)
	return out
}

// details returns the details of the diagnostics at path, joined.
func details(fe *apis.FieldError, path string) string {
	var out string
	for _, e := range fe.WrappedErrors() {
		for _, p := range e.Paths {
			if p == path {
				out += e.Details
			}
		}
	}
	return out
}
