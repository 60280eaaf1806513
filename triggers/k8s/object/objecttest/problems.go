package objecttest

import (
	"errors"
	"strings"
	"testing"

	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/triggers"
)

// Problem is a spec that New must refuse with a field error.
type Problem struct {
	// Name names the subtest.
	Name string
	// Spec is the trigger spec as YAML, as under its key in a Sensor.
	Spec string
	// NoKube builds without a cluster; otherwise with kubetest.NoCluster's clients.
	NoKube bool
	// WantPath is the path, relative to the spec, of a problem whose
	// message contains WantMsg.
	WantPath, WantMsg string
}

// RunProblems builds each spec with the trigger type registered under key
// and checks that it is refused with WantMsg at WantPath.
func RunProblems(t *testing.T, key string, problems []Problem) {
	t.Helper()
	for _, tc := range problems {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			typ, ok := triggers.Lookup(key)
			if !ok {
				t.Fatalf("%s is not registered", key)
			}
			deps := triggers.Deps{}
			if !tc.NoKube {
				deps.Kube = kubetest.NoCluster(t)
			}
			raw, err := yaml.YAMLToJSON([]byte(tc.Spec))
			if err != nil {
				t.Fatal(err)
			}
			inst, err := typ.Build(raw, deps)
			if err == nil {
				_ = inst.Close()
				t.Fatalf("Build(%s) succeeded", raw)
			}
			var fe *apis.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Build = %v (%T), want a field error", err, err)
			}
			found := false
			for _, e := range fe.WrappedErrors() {
				for _, p := range e.Paths {
					if p == tc.WantPath && strings.Contains(e.Message, tc.WantMsg) {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("Build = %q, want %q at %q", fe, tc.WantMsg, tc.WantPath)
			}
		})
	}
}
