package sensortest

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/kube"
	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/pkg/sensor"
	"github.com/flintevents/flint/triggers"
)

// RunExamples loads the sensors of testdata/examples, written as Argo's
// examples/sensors are, each with one trigger of type key. Those named in
// refused are refused at the path given, with a cluster; the others build
// with a cluster as `flint dev` builds them, and without one are refused at
// spec.triggers[0].template.<key> as needing a cluster.
func RunExamples(t *testing.T, key string, refused map[string]string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			err := buildExample(t, file, kubetest.NoCluster(t))
			want, isRefused := refused[filepath.Base(file)]
			if !isRefused {
				if err != nil {
					t.Fatalf("building the sensor = %v", err)
				}
				want = "spec.triggers[0].template." + key
				err := buildExample(t, file, nil)
				var fe *apis.FieldError
				if !errors.As(err, &fe) || !slices.Contains(paths(fe), want) ||
					!strings.Contains(err.Error(), "needs a Kubernetes cluster") {
					t.Fatalf("building the sensor without a cluster = %v, want a problem at %s", err, want)
				}
				return
			}
			var fe *apis.FieldError
			if !errors.As(err, &fe) || !slices.Contains(paths(fe), want) {
				t.Fatalf("building the sensor = %v, want a problem at %s", err, want)
			}
		})
	}
}

// buildExample decodes, defaults, validates and compiles a sensor file with
// clients as the cluster, and returns what compiling it returned.
func buildExample(t *testing.T, file string, clients *kube.Clients) error {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var s v1alpha1.Sensor
	if err := yaml.UnmarshalStrict(raw, &s); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	s.SetDefaults(t.Context())
	if fe := s.Validate(t.Context()); fe != nil {
		t.Fatalf("Validate = %v", fe)
	}
	sn, err := sensor.New(&s, sensor.Options{Deps: triggers.Deps{Kube: clients}})
	if err != nil {
		return err
	}
	return sn.Close()
}

// paths lists the paths of every problem of fe.
func paths(fe *apis.FieldError) []string {
	var out []string
	for _, e := range fe.WrappedErrors() {
		out = append(out, e.Paths...)
	}
	return out
}
