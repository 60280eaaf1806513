package argoworkflow_test

import (
	"testing"

	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/triggers/k8s/object/objecttest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	env.InstallCRDs(t, argoCRDs)
	objecttest.RunConformance(t, env, objecttest.Conformance{
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
		Trigger: "submit",
		What:    "workflow",
		Check: func(t *testing.T, ns, name string) {
			if got := parameters(getWorkflow(t, env, ns, name)); len(got) != 1 || got[0] != "id=e1" {
				t.Errorf("parameters = %v, want id=e1", got)
			}
		},
	})
}
