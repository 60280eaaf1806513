package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flintevents/flint/pkg/freeport"
)

// writeDocs writes YAML documents into a fresh directory and returns it.
func writeDocs(t *testing.T, docs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range docs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestValidateOKMeansDevStarts runs a Sensor that Argo accepts with names and
// expressions a Knative object or a naive expression translation would refuse
// (a dependency `myDep_1`, govaluate's upper-case `IN`): `flint validate`
// accepts it, and `flint dev` then starts and fires on it.
func TestValidateOKMeansDevStarts(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, nil)
	port := freeport.Port(t)
	docs := map[string]string{
		"eventsource.yaml": fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: hooks.main
spec:
  webhook:
    Orders_V2:
      port: "%d"
      endpoint: /orders
      method: POST
`, port),
		"sensor.yaml": fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata:
  name: orders
spec:
  dependencies:
    - name: myDep_1
      eventSourceName: hooks.main
      eventName: Orders_V2
      filters:
        exprs:
          - expr: kind IN ("order", "refund")
            fields:
              - name: kind
                path: body.kind
  triggers:
    - template:
        name: notify
        conditions: myDep_1
        http:
          url: %s/orders
          payload:
            - src: {dependencyName: myDep_1, dataKey: body.kind}
              dest: kind
`, tg.URL),
	}
	dir := writeDocs(t, docs)
	out, err := exec.Command(flintBin, "validate", "-f", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("flint validate: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ok sensor/orders") {
		t.Fatalf("validate output lacks ok sensor/orders:\n%s", out)
	}

	dev := startDev(t, docs, nil)
	waitListening(t, port)
	hook := fmt.Sprintf("http://127.0.0.1:%d/orders", port)
	if code, resp := post(t, http.MethodPost, hook, "application/json", `{"kind":"order"}`); code != http.StatusOK {
		t.Fatalf("POST = %d %q, want 200", code, resp)
	}
	if got := tg.next(t, dev); string(got.Body) != `{"kind":"order"}` {
		t.Fatalf("trigger payload = %s, want {\"kind\":\"order\"}", got.Body)
	}
}

// TestNotRunnableWarnsInValidateAndFailsDev checks that a type this build
// cannot run is a warning for `flint validate` (exit 0) and the same words
// refuse `flint dev` (exit 1), naming the field.
func TestNotRunnableWarnsInValidateAndFailsDev(t *testing.T) {
	t.Parallel()
	dir := writeDocs(t, map[string]string{"sensor.yaml": `apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata:
  name: queue
spec:
  dependencies:
    - name: dep
      eventSourceName: hooks
      eventName: orders
  triggers:
    - template:
        name: publish
        pulsar:
          url: pulsar://pulsar:6650
          topic: orders
          payload:
            - src: {dependencyName: dep, dataKey: body}
              dest: body
`})
	const words = `spec.triggers[0].template.pulsar: not runnable yet: trigger type "pulsar"`
	out, err := exec.Command(flintBin, "validate", "-f", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("flint validate exited non-zero on valid YAML: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "warning: ") || !strings.Contains(string(out), "valid; not runnable yet") || !strings.Contains(string(out), words[:strings.Index(words, ":")]) {
		t.Fatalf("validate output lacks the not-runnable warning:\n%s", out)
	}
	out, err = exec.Command(flintBin, "dev", "-f", dir, "--broker-addr", "127.0.0.1:0").CombinedOutput()
	if err == nil {
		t.Fatalf("flint dev started with a trigger type it cannot run:\n%s", out)
	}
	if !strings.Contains(string(out), words) {
		t.Fatalf("flint dev output lacks %q:\n%s", words, out)
	}
}
