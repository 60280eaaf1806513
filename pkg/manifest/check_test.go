package manifest

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestCheckReportsProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		paths []string
		want  []string
	}{
		{
			name:  "unknown fields name the full path and a close match",
			paths: []string{"testdata/cases/unknown-field.yaml"},
			want: []string{
				`testdata/cases/unknown-field.yaml: spec.webhook[example].Endpoint: unknown field, did you mean "endpoint"?`,
				`testdata/cases/unknown-field.yaml: spec.webhook[example].colour: unknown field`,
				`testdata/cases/unknown-field.yaml: spec.webhook[example].prot: unknown field, did you mean "port"?`,
				`testdata/cases/unknown-field.yaml: spec.webhook[example].endpoint: missing field(s)`,
				`testdata/cases/unknown-field.yaml: spec.webhook[example].port: missing field(s)`,
			},
		},
		{
			name:  "every wrong type is reported",
			paths: []string{"testdata/cases/wrong-types.yaml"},
			want: []string{
				`testdata/cases/wrong-types.yaml: spec.dependencies[0].eventName: expected string, got array`,
				`testdata/cases/wrong-types.yaml: spec.triggers[0].atLeastOnce: expected boolean, got string`,
				`testdata/cases/wrong-types.yaml: spec.triggers[0].policy.status.allow[1]: expected 32-bit integer, got 2.5`,
				`testdata/cases/wrong-types.yaml: spec.triggers[0].template.http.timeout: expected integer, got string`,
			},
		},
		{
			name:  "an unquoted webhook port",
			paths: []string{"testdata/cases/port-number.yaml"},
			want:  []string{`testdata/cases/port-number.yaml: spec.webhook[example].port: expected string, got number`},
		},
		{
			name:  "unknown kinds, missing type fields, non-objects",
			paths: []string{"testdata/cases/kinds.yaml"},
			want: []string{
				`testdata/cases/kinds.yaml#1: kind: unknown kind "EventBus" of apiVersion "argoproj.io/v1alpha1"; ` + expectedKinds,
				`testdata/cases/kinds.yaml#2: kind: unknown kind "Deployment" of apiVersion "apps/v1"; ` + expectedKinds,
				`testdata/cases/kinds.yaml#3: apiVersion: missing field(s)`,
				`testdata/cases/kinds.yaml#4: kind: expected string, got number`,
				`testdata/cases/kinds.yaml#5: expected a Kubernetes object with apiVersion and kind, got array`,
			},
		},
		{
			name:  "YAML errors carry file line numbers",
			paths: []string{"testdata/cases/bad-yaml.yaml"},
			want: []string{
				`testdata/cases/bad-yaml.yaml#2: invalid YAML: unmarshal errors: line 19: key "name" already set in map`,
				`testdata/cases/bad-yaml.yaml#3: invalid YAML: line 24: did not find expected ',' or ']'`,
			},
		},
		{
			name:  "validation problems with details",
			paths: []string{"testdata/cases/validation.yaml"},
			want: []string{
				`testdata/cases/validation.yaml: spec.dependencies[0].filters.data[0].value[0]: invalid value: ten; must be a number`,
				`testdata/cases/validation.yaml: spec.triggers[0].parameters[0].src.dependencyName: invalid value: missing; unknown dependency`,
				`testdata/cases/validation.yaml: spec.triggers[0].template.http.url: missing field(s)`,
			},
		},
		{
			name:  "knative objects are validated by knative",
			paths: []string{"testdata/cases/knative.yaml"},
			want: []string{
				`testdata/cases/knative.yaml#1: spec.subscriber.ref: expected at least one, got none`,
				`testdata/cases/knative.yaml#1: spec.subscriber.uri: expected at least one, got none`,
				`testdata/cases/knative.yaml#2: spec.delivery.backoffPolicy: invalid value: sometimes`,
				`testdata/cases/knative.yaml#2: spec.delivery.retry: invalid value: -1`,
			},
		},
		{
			name:  "checks across objects and files",
			paths: []string{"testdata/cases/cross-1.yaml", "testdata/cases/cross-2.yaml"},
			want: []string{
				`testdata/cases/cross-1.yaml#2: spec.dependencies[0].eventName: EventSource "second" has no event "exmaple" (it has example, other)`,
				`testdata/cases/cross-2.yaml#1: spec.webhook[example].endpoint: port 12000 and endpoint /example are already served by EventSource "first" (webhook[example], testdata/cases/cross-1.yaml#1)`,
				`testdata/cases/cross-2.yaml#2: metadata.name: duplicate EventSource "first" in namespace "default" (also testdata/cases/cross-1.yaml#1)`,
			},
		},
		{
			name:  "problems follow input order",
			paths: []string{"testdata/cases/single-broken.yaml", "testdata/cases/port-number.yaml"},
			want: []string{
				`testdata/cases/single-broken.yaml: spec.dependencies: missing field(s)`,
				`testdata/cases/single-broken.yaml: spec.triggers: missing field(s)`,
				`testdata/cases/port-number.yaml: spec.webhook[example].port: expected string, got number`,
			},
		},
		{
			name:  "an empty directory",
			paths: []string{"testdata/empty-dir"},
			want:  []string{`testdata/empty-dir: no .yaml, .yml or .json files in directory`},
		},
		{name: "a valid tree", paths: []string{"testdata/tree"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, problems, err := Loader{}.Check(context.Background(), tc.paths...)
			if err != nil {
				t.Fatalf("Check() error = %v", err)
			}
			got := make([]string, len(problems))
			for i, p := range problems {
				got[i] = p.String()
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Check() problems =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestCheckProblemFields(t *testing.T) {
	t.Parallel()
	_, problems, err := Loader{}.Check(context.Background(), "testdata/cases/kinds.yaml", "testdata/cases/validation.yaml")
	if err != nil {
		t.Fatal(err)
	}
	first, last := problems[0], problems[len(problems)-1]
	if first.File != "testdata/cases/kinds.yaml" || first.Doc != 1 || first.Docs != 5 || first.Path != "kind" ||
		!strings.HasPrefix(first.Reason, `unknown kind "EventBus"`) {
		t.Errorf("first problem = %+v", first)
	}
	if last.File != "testdata/cases/validation.yaml" || last.Doc != 1 || last.Docs != 1 ||
		last.Path != "spec.triggers[0].template.http.url" || last.Reason != "missing field(s)" {
		t.Errorf("last problem = %+v", last)
	}
}

func TestCheckAppliesDefaults(t *testing.T) {
	t.Parallel()
	set, problems, err := Loader{}.Check(context.Background(), "testdata/tree")
	if err != nil || len(problems) > 0 {
		t.Fatalf("Check() = %v, %v", problems, err)
	}
	es := set.EventSources()[0]
	if es.Spec.EventBusName != "default" || *es.Spec.Webhook["example"].MaxPayloadSize != 1048576 {
		t.Errorf("EventSource not defaulted: %+v", es.Spec)
	}
	if s := set.Sensors()[0]; s.Spec.Dependencies[0].FiltersLogicalOperator != "and" {
		t.Errorf("Sensor not defaulted: %+v", s.Spec.Dependencies[0])
	}
}
