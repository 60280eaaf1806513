package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/freeport"
)

// webhookYAML is an EventSource with one webhook entry on port, and a Sensor
// whose HTTP trigger posts a parameterized payload to url.
func webhookYAML(port int, url string, extra string) map[string]string {
	return map[string]string{
		"eventsource.yaml": fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: hooks
spec:
  webhook:
    orders:
      port: "%d"
      endpoint: /orders
      method: POST
      maxPayloadSize: 4096
%s`, port, extra),
		"sensor.yaml": fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata:
  name: orders
spec:
  dependencies:
    - name: order
      eventSourceName: hooks
      eventName: orders
      filters:
        data:
          - path: body.kind
            type: string
            value: ["^order$"]
          - path: body.amount
            type: number
            comparator: ">"
            value: ["10"]
  triggers:
    - template:
        name: notify
        http:
          url: %s/orders
          method: PUT
          headers:
            X-Flint: e2e
          payload:
            - src: {dependencyName: order, dataKey: body.id}
              dest: id
            - src: {dependencyName: order, dataKey: body.amount}
              dest: amount
            - src: {dependencyName: order, dataKey: header.X-Customer.0}
              dest: customer
            - src: {dependencyName: order, contextKey: subject}
              dest: event
      policy:
        status:
          allow: [200]
`, url),
	}
}

func TestWebhookToHTTPTrigger(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, nil)
	port := freeport.Port(t)
	dev := startDev(t, webhookYAML(port, tg.URL, ""), nil)
	waitListening(t, port)
	hook := fmt.Sprintf("http://127.0.0.1:%d/orders", port)

	// Filtered out: amount too small, then kind does not match.
	for _, body := range []string{
		`{"kind":"order","id":"small","amount":5}`,
		`{"kind":"refund","id":"refund","amount":50}`,
	} {
		if code, resp := post(t, http.MethodPost, hook, "text/plain", body); code != http.StatusOK || resp != "success" {
			t.Fatalf("POST %s = %d %q, want 200 success", body, code, resp)
		}
	}
	// Passes, with a JSON body sent as text/plain (curl's default is form).
	code, resp := post(t, http.MethodPost, hook, "application/x-www-form-urlencoded", `{"kind":"order","id":"o-1","amount":42.5}`, "X-Customer", "acme")
	if code != http.StatusOK || resp != "success" {
		t.Fatalf("POST = %d %q, want 200 success", code, resp)
	}

	got := tg.next(t, dev)
	if got.Method != http.MethodPut || got.Path != "/orders" {
		t.Fatalf("trigger request = %s %s, want PUT /orders", got.Method, got.Path)
	}
	if got.Header.Get("X-Flint") != "e2e" {
		t.Fatalf("header X-Flint = %q", got.Header.Get("X-Flint"))
	}
	var payload map[string]any
	if err := json.Unmarshal(got.Body, &payload); err != nil {
		t.Fatalf("payload %s: %v", got.Body, err)
	}
	want := map[string]any{"id": "o-1", "amount": "42.5", "customer": "acme", "event": "orders"}
	for k, v := range want {
		if payload[k] != v {
			t.Fatalf("payload[%s] = %v, want %v (payload %s)", k, payload[k], v, got.Body)
		}
	}
	// The filtered events were logged with their reasons and never delivered.
	dev.waitLog("dependency filtered out", map[string]string{"dependency": "order"})
	select {
	case extra := <-tg.got:
		t.Fatalf("a filtered-out event reached the target: %s", extra.Body)
	case <-time.After(500 * time.Millisecond):
	}
	dev.waitLog("trigger fired", map[string]string{"trigger": "notify"})
}

func TestWebhookErrors(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, nil)
	port := freeport.Port(t)
	extra := `    secured:
      port: "%d"
      endpoint: /secured
      method: POST
      authSecret:
        name: hook-auth
        key: token
`
	docs := webhookYAML(port, tg.URL, fmt.Sprintf(extra, port))
	// flint dev reads secret references from the environment.
	startDev(t, docs, []string{"FLINT_SECRET_HOOK_AUTH_TOKEN=s3cr3t"})
	waitListening(t, port)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	big := `{"kind":"order","pad":"` + strings.Repeat("x", 5000) + `"}`

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		header []string
		want   int
	}{
		{"wrong method", http.MethodGet, "/orders", "", nil, http.StatusMethodNotAllowed},
		{"unknown path", http.MethodPost, "/nope", `{}`, nil, http.StatusNotFound},
		{"over maxPayloadSize", http.MethodPost, "/orders", big, nil, http.StatusRequestEntityTooLarge},
		{"missing bearer token", http.MethodPost, "/secured", `{}`, nil, http.StatusUnauthorized},
		{"wrong bearer token", http.MethodPost, "/secured", `{}`, []string{"Authorization", "Bearer nope"}, http.StatusUnauthorized},
		{"right bearer token", http.MethodPost, "/secured", `{}`, []string{"Authorization", "Bearer s3cr3t"}, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, tc.method, base+tc.path, "application/json", tc.body, tc.header...)
			if code != tc.want {
				t.Fatalf("%s %s = %d %q, want %d", tc.method, tc.path, code, body, tc.want)
			}
		})
	}
}

func TestWebhookBrokerRefusal(t *testing.T) {
	t.Parallel()
	// The broker accepts events up to 1 KiB here; the webhook entry takes 4 KiB,
	// so a 2 KiB body is accepted by the webhook and refused by the broker: the
	// caller must not get `success`, but 413 naming the broker's limit, since
	// sending it again cannot help.
	tg := newTarget(t, nil)
	port := freeport.Port(t)
	startDev(t, webhookYAML(port, tg.URL, ""), nil, "--max-event-size", "1024")
	waitListening(t, port)
	body := `{"kind":"order","id":"big","amount":50,"pad":"` + strings.Repeat("x", 2048) + `"}`
	code, resp := post(t, http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/orders", port), "application/json", body)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(resp, "limit 1024") {
		t.Fatalf("POST = %d %q, want 413 naming the limit of 1024 bytes", code, resp)
	}
}

func TestUnsupportedTypeFailsStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	doc := `apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: queue
spec:
  sqs:
    orders:
      region: us-east-1
      queue: orders
      waitTimeSeconds: 20
      jsonBody: true
`
	if err := os.WriteFile(filepath.Join(dir, "es.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(flintBin, "dev", "-f", dir, "--broker-addr", "127.0.0.1:0").CombinedOutput()
	if err == nil {
		t.Fatalf("flint dev started with an unsupported type:\n%s", out)
	}
	if !strings.Contains(string(out), "spec.sqs") || !strings.Contains(string(out), "not runnable yet") {
		t.Fatalf("error does not name the type key:\n%s", out)
	}
}
