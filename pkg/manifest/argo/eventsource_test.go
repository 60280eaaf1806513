package argo_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/flintevents/flint/pkg/manifest/argo"
)

const webhookES = `apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: hooks
spec:
  webhook:
    example:
      port: "12000"
      endpoint: /example
      method: POST
`

func TestCheckEventSource(t *testing.T) {
	t.Parallel()
	other := strings.NewReplacer("name: hooks", "name: other", "/example", "/other").Replace(webhookES)
	tests := []struct {
		name     string
		in       string
		problems []string
		wantErr  string
	}{
		{name: "an EventSource, defaulted", in: webhookES},
		{name: "other kinds are skipped", in: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n---\n" + webhookES +
			"---\napiVersion: argoproj.io/v1alpha1\nkind: EventBus\nmetadata: {name: default}\nspec: {jetstream: {}}\n"},
		{name: "an unknown field is a problem with a did-you-mean", in: webhookES + "      methd: GET\n",
			problems: []string{`es.yaml: spec.webhook[example].methd: unknown field, did you mean "method"?`}},
		{name: "invalid after defaults", in: webhookES + "      maxPayloadSize: 0\n",
			problems: []string{`es.yaml: spec.webhook[example].maxPayloadSize: invalid value: 0; must be positive`}},
		{name: "a field of the wrong type", in: strings.Replace(webhookES, `"12000"`, "12000", 1),
			problems: []string{`es.yaml: spec.webhook[example].port: expected string, got number`}},
		{name: "invalid YAML", in: webhookES + "  [", problems: []string{`es.yaml: invalid YAML: line 12: could not find expected ':'`}},
		{name: "a near miss of a Knative kind", in: webhookES + "---\napiVersion: eventing.knative.dev/v1\nkind: Triger\nmetadata: {name: t}\n",
			problems: []string{`es.yaml#2: kind: unknown kind "Triger" of apiVersion "eventing.knative.dev/v1"; ` +
				`expected EventSource or Sensor (argoproj.io/v1alpha1), Broker or Trigger (eventing.knative.dev/v1); did you mean "Trigger"?`}},
		{name: "the same name twice", in: webhookES + "---\n" + strings.Replace(webhookES, "/example", "/other", 1),
			problems: []string{`es.yaml#2: metadata.name: duplicate EventSource "hooks" in namespace "default" (also es.yaml#1)`}},
		{name: "two EventSources", in: webhookES + "---\n" + other, wantErr: "es.yaml holds 2 objects, want exactly one EventSource"},
		{name: "a Sensor", in: "apiVersion: argoproj.io/v1alpha1\nkind: Sensor\nmetadata: {name: s}\nspec:\n" +
			"  dependencies: [{name: d, eventSourceName: hooks, eventName: example}]\n  triggers: [{template: {name: t, log: {}}}]\n",
			wantErr: "es.yaml holds 1 objects, want exactly one EventSource"},
		{name: "a Knative Broker besides", in: webhookES + "---\napiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: default}\n",
			wantErr: "es.yaml holds 2 objects, want exactly one EventSource"},
		{name: "nothing", in: "---\n", wantErr: "es.yaml holds 0 objects, want exactly one EventSource"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			es, problems, err := argo.CheckEventSource(context.Background(), strings.NewReader(tc.in), "es.yaml")
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tc.problems) {
				t.Errorf("problems =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.problems, "\n  "))
			}
			switch {
			case tc.wantErr != "":
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("error = %v, want %q", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("error = %v", err)
			}
			if (es != nil) != (len(tc.problems) == 0 && tc.wantErr == "") {
				t.Fatalf("EventSource = %v, want one only when there is no problem and no error", es)
			}
			if es != nil && (es.Name != "hooks" || es.Spec.EventBusName != "default" || *es.Spec.Webhook["example"].MaxPayloadSize != 1048576) {
				t.Errorf("EventSource not decoded and defaulted: %+v", es.Spec)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

func TestCheckEventSourceInputError(t *testing.T) {
	t.Parallel()
	_, _, err := argo.CheckEventSource(context.Background(), failingReader{}, "es.yaml")
	if err == nil || err.Error() != "reading es.yaml: disk gone" {
		t.Errorf("error = %v, want reading es.yaml: disk gone", err)
	}
}
