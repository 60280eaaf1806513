package compile_test

import (
	"strings"
	"testing"

	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/compile"
	_ "github.com/flintevents/flint/triggers/builtin"
)

// TestTimeoutWarningsNameTheTypesField checks that a trigger whose one
// attempt outlasts the revision timeout is warned about at the field its
// type's registration names, whatever the type.
func TestTimeoutWarningsNameTheTypesField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, trigger, want string
	}{
		{name: "http timeout", want: "spec.triggers[0].template.http.timeout",
			trigger: `{template: {name: t, http: {url: "http://127.0.0.1/", timeout: 600}}}`},
		{name: "k8s label wait", want: "spec.triggers[0].policy.k8s.backoff",
			trigger: `{template: {name: t, k8s: {operation: create, source: {resource: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}}}},
				policy: {k8s: {labels: {ready: "true"}, backoff: {steps: 10, duration: 1m, factor: 1, jitter: 0}}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var tr v1alpha1.Trigger
			if err := yaml.Unmarshal([]byte(tc.trigger), &tr); err != nil {
				t.Fatal(err)
			}
			s := &v1alpha1.Sensor{Spec: v1alpha1.SensorSpec{Triggers: []v1alpha1.Trigger{tr}}}
			fe := compile.TimeoutWarnings(s)
			if fe == nil {
				t.Fatal("no warning")
			}
			var paths []string
			for _, w := range fe.Filter(apis.WarningLevel).WrappedErrors() {
				paths = append(paths, w.Paths...)
			}
			if strings.Join(paths, ",") != tc.want {
				t.Errorf("warned at %v, want %s", paths, tc.want)
			}
		})
	}
}
