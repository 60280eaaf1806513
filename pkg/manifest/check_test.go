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
		name      string
		paths     []string
		strict    bool
		want      []string
		warnings  []string
		skipped   []string
		unmatched []string
	}{
		{
			name:  "unknown fields are warnings that name the full path and a close match",
			paths: []string{"testdata/cases/unknown-field.yaml"},
			want: []string{
				`testdata/cases/unknown-field.yaml: spec.webhook[example].endpoint: missing field(s)`,
				`testdata/cases/unknown-field.yaml: spec.webhook[example].port: missing field(s)`,
			},
			warnings: []string{
				`testdata/cases/unknown-field.yaml: spec.webhook[example].Endpoint: unknown field, did you mean "endpoint"?`,
				`testdata/cases/unknown-field.yaml: spec.webhook[example].colour: unknown field`,
				`testdata/cases/unknown-field.yaml: spec.webhook[example].prot: unknown field, did you mean "port"?`,
			},
		},
		{
			name:   "strict: unknown fields are problems",
			paths:  []string{"testdata/cases/unknown-field.yaml"},
			strict: true,
			want: []string{
				`testdata/cases/unknown-field.yaml: spec.webhook[example].Endpoint: unknown field, did you mean "endpoint"?`,
				`testdata/cases/unknown-field.yaml: spec.webhook[example].colour: unknown field`,
				`testdata/cases/unknown-field.yaml: spec.webhook[example].prot: unknown field, did you mean "port"?`,
				`testdata/cases/unknown-field.yaml: spec.webhook[example].endpoint: missing field(s)`,
				`testdata/cases/unknown-field.yaml: spec.webhook[example].port: missing field(s)`,
			},
		},
		{
			name:  "a trigger template without a known type key is a problem with the did-you-mean",
			paths: []string{"testdata/cases/trigger-type.yaml"},
			want: []string{
				`testdata/cases/trigger-type.yaml: spec.triggers[0].template: expected exactly one of [argoWorkflow, awsLambda, azureEventHubs, azureServiceBus, custom, email, http, k8s, kafka, log, nats, openWhisk, pulsar, slack], got none; openwhisk: unknown field, did you mean "openWhisk"?`,
			},
			warnings: []string{
				`testdata/cases/trigger-type.yaml: spec.triggers[0].template.policy: unknown field`,
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
			name:  "other kinds are skipped; near misses, missing type fields and non-objects are problems",
			paths: []string{"testdata/cases/kinds.yaml"},
			want: []string{
				`testdata/cases/kinds.yaml#3: apiVersion: missing field(s)`,
				`testdata/cases/kinds.yaml#4: kind: expected string, got number`,
				`testdata/cases/kinds.yaml#5: expected a Kubernetes object with apiVersion and kind, got array`,
				`testdata/cases/kinds.yaml#6: kind: unknown kind "Sensr" of apiVersion "argoproj.io/v1alpha1"; ` + expectedKinds + `; did you mean "Sensor"?`,
				`testdata/cases/kinds.yaml#7: apiVersion: unsupported apiVersion "argoproj.io/v1beta1" of kind Sensor; expected argoproj.io/v1alpha1`,
				`testdata/cases/kinds.yaml#8: kind: unknown kind "trigger" of apiVersion "eventing.knative.dev/v1"; ` + expectedKinds + `; did you mean "Trigger"?`,
			},
			skipped: []string{
				`testdata/cases/kinds.yaml#1: EventBus argoproj.io/v1alpha1 "default" is not read by flint; skipped`,
				`testdata/cases/kinds.yaml#2: Deployment apps/v1 "x" is not read by flint; skipped`,
				`testdata/cases/kinds.yaml#9: WorkflowTemplate argoproj.io/v1alpha1 "wf" is not read by flint; skipped`,
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
				`testdata/cases/cross-1.yaml#2: spec.dependencies[0].eventName: EventSource "second" has no event "exmaple" (it has example, other); did you mean "example"?`,
				`testdata/cases/cross-2.yaml#1: spec.webhook[example].endpoint: port 12000 and endpoint /example are already served by EventSource "first" (webhook[example], testdata/cases/cross-1.yaml#1)`,
				`testdata/cases/cross-2.yaml#2: metadata.name: duplicate EventSource "first" in namespace "default" (also testdata/cases/cross-1.yaml#1)`,
			},
			unmatched: []string{
				`testdata/cases/cross-1.yaml#2: spec.dependencies[1].eventSourceName: EventSource "not-in-set" is not among those loaded in namespace "default" (first, second): none of their events fires this dependency`,
			},
		},
		{
			name:  "a dependency on an EventSource that is not loaded is a warning when others are loaded in its namespace",
			paths: []string{"testdata/cases/unmatched.yaml"},
			want: []string{
				`testdata/cases/unmatched.yaml#3: spec.dependencies[2].eventName: EventSource "webhook" has no event "exampel" (it has example); did you mean "example"?`,
			},
			unmatched: []string{
				`testdata/cases/unmatched.yaml#3: spec.dependencies[0].eventSourceName: EventSource "webhok" is not among those loaded in namespace "default" (webhook): none of their events fires this dependency; did you mean "webhook"?`,
				`testdata/cases/unmatched.yaml#3: spec.dependencies[1].eventSourceName: EventSource "calendar" is not among those loaded in namespace "default" (webhook): none of their events fires this dependency`,
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
			set, problems, err := Loader{Strict: tc.strict}.Check(context.Background(), tc.paths...)
			if err != nil {
				t.Fatalf("Check() error = %v", err)
			}
			var got, warnings, skipped []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			for _, p := range set.Warnings {
				warnings = append(warnings, p.String())
			}
			for _, s := range set.Skipped {
				skipped = append(skipped, s.Note())
			}
			var unmatched []string
			for _, p := range set.Unmatched {
				unmatched = append(unmatched, p.String())
			}
			if !slices.Equal(unmatched, tc.unmatched) {
				t.Errorf("Check() unmatched =\n  %s\nwant\n  %s", strings.Join(unmatched, "\n  "), strings.Join(tc.unmatched, "\n  "))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Check() problems =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			if !slices.Equal(warnings, tc.warnings) {
				t.Errorf("Check() warnings =\n  %s\nwant\n  %s", strings.Join(warnings, "\n  "), strings.Join(tc.warnings, "\n  "))
			}
			if !slices.Equal(skipped, tc.skipped) {
				t.Errorf("Check() skipped =\n  %s\nwant\n  %s", strings.Join(skipped, "\n  "), strings.Join(tc.skipped, "\n  "))
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
	if first.File != "testdata/cases/kinds.yaml" || first.Doc != 3 || first.Docs != 9 || first.Path != "apiVersion" ||
		first.Reason != "missing field(s)" {
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
