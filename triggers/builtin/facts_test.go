package builtin_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
	_ "github.com/flintevents/flint/triggers/builtin"
)

// TestEveryTypeDeclaresItsFacts checks that each registered trigger type
// says what hosts read of it without building it, so that no host needs a
// switch on its key.
func TestEveryTypeDeclaresItsFacts(t *testing.T) {
	t.Parallel()
	if len(triggers.Keys()) == 0 {
		t.Fatal("no trigger type registered")
	}
	for _, key := range triggers.Keys() {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			typ, _ := triggers.Lookup(key)
			if typ.Attempt == nil {
				t.Error("no attempt timeout: register it with triggers.AttemptTimeout")
			} else {
				a := typ.Attempt(triggerOf(t, key, `{}`, ""))
				if a.Timeout < 0 || a.Timeout > time.Hour {
					t.Errorf("attempt timeout %s, want between 0 and an hour", a.Timeout)
				}
				if !strings.HasPrefix(a.Field, "template."+key) && !strings.HasPrefix(a.Field, "policy.") {
					t.Errorf("attempt field %q names no field of a %s trigger", a.Field, key)
				}
			}
			if typ.TestFiring == 0 {
				t.Error("no word on how a generated function test fires it: register it with triggers.FiresInTest")
			}
			if (typ.Connect != nil) != (typ.Access != nil) {
				t.Errorf("acts on a cluster: %v, declares its rights: %v; a type that needs a cluster declares them with triggers.ClusterAccess",
					typ.Connect != nil, typ.Access != nil)
			}
			if typ.ResourceParameters && typ.ResourcePath == "" {
				t.Error("resource parameters without the place of the object in its spec")
			}
		})
	}
}

// TestAttemptTimeouts checks the attempt timeout each type declares, and the
// field that sets it.
func TestAttemptTimeouts(t *testing.T) {
	t.Parallel()
	waits := `{"k8s":{"labels":{"ready":"true"},"backoff":{"steps":3,"duration":"2s","factor":2,"jitter":0}}}`
	tests := []struct {
		name, key, spec, policy string
		want                    time.Duration
		field                   string
	}{
		{name: "http with its timeout", key: "http", spec: `{"url":"http://127.0.0.1/","timeout":600}`, want: 10 * time.Minute, field: "template.http.timeout"},
		{name: "http with Argo's default", key: "http", spec: `{"url":"http://127.0.0.1/"}`, want: time.Minute, field: "template.http.timeout"},
		{name: "log", key: "log", spec: `{}`, want: 0, field: "template.log"},
		{name: "awsLambda", key: "awsLambda", spec: `{"functionName":"f","region":"us-east-1"}`, want: 5 * time.Minute, field: "template.awsLambda"},
		{name: "k8s without a wait", key: "k8s", spec: `{"operation":"create"}`, want: 30 * time.Second, field: "template.k8s"},
		// 30 s of calls, then waits of 2 s and 4 s between three reads.
		{name: "k8s waiting for labels", key: "k8s", spec: `{"operation":"create"}`, policy: waits, want: 36 * time.Second, field: "policy.k8s.backoff"},
		{name: "argoWorkflow waiting for labels", key: "argoWorkflow", spec: `{"operation":"submit"}`, policy: waits, want: 36 * time.Second, field: "policy.k8s.backoff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			typ, ok := triggers.Lookup(tc.key)
			if !ok || typ.Attempt == nil {
				t.Fatalf("%s: not registered with an attempt timeout", tc.key)
			}
			got := typ.Attempt(triggerOf(t, tc.key, tc.spec, tc.policy))
			if got.Timeout != tc.want || got.Field != tc.field {
				t.Errorf("attempt = %s at %s, want %s at %s", got.Timeout, got.Field, tc.want, tc.field)
			}
		})
	}
}

// triggerOf is a trigger named t of type key with spec and policy (JSON; "" for none).
func triggerOf(t *testing.T, key, spec, policy string) *v1alpha1.Trigger {
	t.Helper()
	doc := `{"template":{"name":"t","` + key + `":` + spec + `}`
	if policy != "" {
		doc += `,"policy":` + policy
	}
	var tr v1alpha1.Trigger
	if err := json.Unmarshal([]byte(doc+"}"), &tr); err != nil {
		t.Fatalf("decoding %s: %v", doc, err)
	}
	return &tr
}
