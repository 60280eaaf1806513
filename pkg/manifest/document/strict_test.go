package document

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

func TestSchemaChecker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{name: "embedded resource objects are free-form",
			doc: `{"spec":{"triggers":[{"template":{"name":"t","k8s":{"source":{"resource":{"anything":{"goes":[1,"x"]}}}}}}]}}`},
		{name: "amounts and durations take numbers or strings",
			doc: `{"spec":{"triggers":[{"retryStrategy":{"duration":"1s","factor":2,"jitter":"0.5"}},{"retryStrategy":{"duration":5}}]}}`},
		{name: "time fields must parse",
			doc:  `{"metadata":{"creationTimestamp":"yesterday"}}`,
			want: []string{`metadata.creationTimestamp: invalid value: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"`}},
		{name: "map values are checked with bracketed keys",
			doc:  `{"metadata":{"labels":{"app.kubernetes.io/name":1}}}`,
			want: []string{`metadata.labels[app.kubernetes.io/name]: expected string, got number`}},
		{name: "objects expected",
			doc:  `{"spec":{"dependencies":["a"],"template":"x"}}`,
			want: []string{"spec.dependencies[0]: expected object, got string", "spec.template: expected object, got string"}},
		{name: "unsigned and nested",
			doc:  `{"spec":{"triggers":[{"template":{"log":{"intervalSeconds":-1}},"dlqTrigger":{"template":{"lgo":{}}}}]}}`,
			want: []string{`spec.triggers[0].dlqTrigger.template.lgo: unknown field, did you mean "log"?`, "spec.triggers[0].template.log.intervalSeconds: expected non-negative 64-bit integer, got -1"}},
		{name: "nulls are accepted", doc: `{"spec":{"dependencies":null,"template":null,"replicas":null}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dec := json.NewDecoder(bytes.NewReader([]byte(tc.doc)))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range newSchemaChecker().check(v, reflect.TypeFor[v1alpha1.Sensor]()) {
				got = append(got, p.path+": "+p.reason)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("check() =\n  %q\nwant\n  %q", got, tc.want)
			}
		})
	}
}

func TestUnknownFieldReason(t *testing.T) {
	t.Parallel()
	fields := map[string]reflect.Type{"port": nil, "endpoint": nil, "method": nil, "url": nil}
	tests := map[string]string{
		"prot":      `unknown field, did you mean "port"?`,
		"URL":       `unknown field, did you mean "url"?`,
		"endpoints": `unknown field, did you mean "endpoint"?`,
		"colour":    "unknown field",
		"x":         "unknown field",
	}
	for in, want := range tests {
		if got := unknownFieldReason(in, fields); got != want {
			t.Errorf("unknownFieldReason(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		known []string
		want  string
	}{
		{name: "openwhisk", known: []string{"openWhisk", "http", "nats"}, want: "openWhisk"},
		{name: "verifycert", known: []string{"verifyCert", "insecureSkipVerify"}, want: "verifyCert"},
		{name: "Http", known: []string{"http", "htp"}, want: "http"}, // case first, before distance 1
		{name: "evntName", known: []string{"eventName", "eventSourceName"}, want: "eventName"},
		{name: "colour", known: []string{"color", "value"}, want: "color"},
		{name: "policy", known: []string{"name", "http", "conditions"}},
		{name: "ab", known: []string{"abc"}}, // too short to guess
		{name: "name", known: []string{"name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := DidYouMean(tc.name, tc.known); got != tc.want {
				t.Errorf("DidYouMean(%q, %q) = %q, want %q", tc.name, tc.known, got, tc.want)
			}
		})
	}
}
