package k8s_test

import (
	"testing"

	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/triggers/k8s/object/objecttest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	objecttest.RunConformance(t, env, objecttest.Conformance{
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
		Trigger: "create",
		What:    "object",
		Check: func(t *testing.T, ns, name string) {
			cm := objecttest.Get(t, env.Clients, configMaps, ns, name)
			if got := str(cm, "data", "id"); got != "e1" {
				t.Errorf("data.id = %q, want the parameters applied", got)
			}
		},
	})
}
