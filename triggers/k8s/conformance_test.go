package k8s_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/triggers"
	"github.com/flintevents/flint/triggers/triggertest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	ns := env.Namespace(t)
	block := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(block.Close)
	t.Cleanup(block.CloseClientConnections)
	triggertest.Run(t, triggertest.Case{
		Key: "k8s",
		Spec: `
source:
  resource:
    apiVersion: v1
    kind: ConfigMap
    metadata: {generateName: conformance-}
    data: {id: placeholder}
parameters:
  - src: {dependencyName: dep, dataKey: body.id}
    dest: data.id
`,
		BadSpec: "source: {git: {url: 'https://example.com/r.git', cloneDirectory: /tmp/r, filePath: cm.yaml}}",
		BadPath: "source.git",
		Deps:    triggers.Deps{Kube: env.Clients},
		Firing: triggers.Firing{Sensor: "s", Trigger: "create", Namespace: ns, IdempotencyKey: "s/create/dep:e1",
			ApplyParameters: func(doc []byte) ([]byte, error) {
				return []byte(strings.Replace(string(doc), `"placeholder"`, `"e1"`, 1)), nil
			}},
		Check: func(t *testing.T, res triggers.Result, err error) {
			if err != nil {
				t.Fatalf("Fire = %v", err)
			}
			if res.StatusCode != 0 || res.Object == nil {
				t.Fatalf("Fire = %+v, want the created object and no status", res)
			}
			meta := res.Object["metadata"].(map[string]any)
			name, _ := meta["name"].(string)
			if !strings.HasPrefix(name, "conformance-") || meta["namespace"] != ns {
				t.Errorf("created %v/%v, want %s/conformance-<suffix>", meta["namespace"], name, ns)
			}
			cm := get(t, env, configMaps, ns, name)
			if got := str(cm, "data", "id"); got != "e1" {
				t.Errorf("data.id = %q, want the parameters applied", got)
			}
		},
		Blocking: "source: {url: {path: '" + block.URL + "/object.yaml'}}",
	})
}
