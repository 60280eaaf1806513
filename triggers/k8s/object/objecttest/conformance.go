package objecttest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/triggers"
	"github.com/flintevents/flint/triggers/triggertest"
)

// Conformance is the trigger conformance case of a type that creates an
// object from its source.
type Conformance struct {
	// Key is the trigger type key, e.g. "k8s".
	Key string
	// Spec creates an object with generateName "conformance-" holding the
	// string "placeholder", which the firing's parameters replace by "e1".
	Spec string
	// BadSpec and BadPath are a spec New refuses and the path it names.
	BadSpec, BadPath string
	// Trigger is the trigger name of the firing.
	Trigger string
	// What names the object in messages ("object", "workflow"); the blocking
	// source reads <What>.yaml.
	What string
	// Check inspects the object created as name in ns, e.g. that it holds "e1".
	Check func(t *testing.T, ns, name string)
}

// RunConformance runs triggertest's suite for c against env's cluster, in a
// fresh namespace: the firing creates the object there, and a source whose
// URL never answers blocks the firing until its context ends.
func RunConformance(t *testing.T, env *kubetest.Env, c Conformance) {
	t.Helper()
	ns := env.Namespace(t)
	block := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(block.Close)
	t.Cleanup(block.CloseClientConnections)
	triggertest.Run(t, triggertest.Case{
		Key:     c.Key,
		Spec:    c.Spec,
		BadSpec: c.BadSpec,
		BadPath: c.BadPath,
		Deps:    triggers.Deps{Kube: env.Clients},
		Firing: triggers.Firing{Sensor: "s", Trigger: c.Trigger, Namespace: ns, IdempotencyKey: "s/" + c.Trigger + "/dep:e1",
			ApplyParameters: func(doc []byte) ([]byte, error) {
				return []byte(strings.Replace(string(doc), `"placeholder"`, `"e1"`, 1)), nil
			}},
		Check: func(t *testing.T, res triggers.Result, err error) {
			if err != nil {
				t.Fatalf("Fire = %v", err)
			}
			if res.StatusCode != 0 || res.Object == nil {
				t.Fatalf("Fire = %+v, want the created %s and no status", res, c.What)
			}
			meta := res.Object["metadata"].(map[string]any)
			name, _ := meta["name"].(string)
			if !strings.HasPrefix(name, "conformance-") || meta["namespace"] != ns {
				t.Errorf("created %v/%v, want %s/conformance-<suffix>", meta["namespace"], name, ns)
			}
			c.Check(t, ns, name)
		},
		Blocking: "source: {url: {path: '" + block.URL + "/" + c.What + ".yaml'}}",
	})
}
