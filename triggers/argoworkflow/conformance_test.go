package argoworkflow_test

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
	env.InstallCRDs(t, argoCRDs)
	ns := env.Namespace(t)
	block := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(block.Close)
	t.Cleanup(block.CloseClientConnections)
	triggertest.Run(t, triggertest.Case{
		Key: "argoWorkflow",
		Spec: `
source:
  resource:
    apiVersion: argoproj.io/v1alpha1
    kind: Workflow
    metadata: {generateName: conformance-}
    spec:
      entrypoint: main
      arguments: {parameters: [{name: id, value: placeholder}]}
      templates: [{name: main, container: {image: alpine}}]
parameters:
  - src: {dependencyName: dep, dataKey: body.id}
    dest: spec.arguments.parameters.0.value
`,
		BadSpec: "source: {inline: 'kind: Workflow'}\noperation: retry",
		BadPath: "operation",
		Deps:    triggers.Deps{Kube: env.Clients},
		Firing: triggers.Firing{Sensor: "s", Trigger: "submit", Namespace: ns, IdempotencyKey: "s/submit/dep:e1",
			ApplyParameters: func(doc []byte) ([]byte, error) {
				return []byte(strings.Replace(string(doc), `"placeholder"`, `"e1"`, 1)), nil
			}},
		Check: func(t *testing.T, res triggers.Result, err error) {
			if err != nil {
				t.Fatalf("Fire = %v", err)
			}
			if res.StatusCode != 0 || res.Object == nil {
				t.Fatalf("Fire = %+v, want the created workflow and no status", res)
			}
			meta := res.Object["metadata"].(map[string]any)
			name, _ := meta["name"].(string)
			if !strings.HasPrefix(name, "conformance-") || meta["namespace"] != ns {
				t.Errorf("created %v/%v, want %s/conformance-<suffix>", meta["namespace"], name, ns)
			}
			if got := parameters(getWorkflow(t, env, ns, name)); len(got) != 1 || got[0] != "id=e1" {
				t.Errorf("parameters = %v, want id=e1", got)
			}
		},
		Blocking: "source: {url: {path: '" + block.URL + "/workflow.yaml'}}",
	})
}
