package http_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/flintevents/flint/triggers"
	"github.com/flintevents/flint/triggers/triggertest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, false, http.StatusCreated, "created")
	block := blockingTarget(t)
	triggertest.Run(t, triggertest.Case{
		Key:  "http",
		Spec: fmt.Sprintf("url: %s/orders\nmethod: PUT\nheaders: {X-Flint: \"yes\"}\n", tg.URL),
		BadSpec: `
url: http://127.0.0.1/
tls:
  caCertSecret: {name: nope, key: ca}
`,
		BadPath: "tls.caCertSecret",
		Deps:    triggers.Deps{Secrets: testSecrets},
		Firing: triggers.Firing{Sensor: "s", Trigger: "call", Payload: []byte(`{"id":"e1"}`),
			Events: events(), IdempotencyKey: "s/call/dep:e1"},
		Check: func(t *testing.T, res triggers.Result, err error) {
			if err != nil || res.StatusCode != http.StatusCreated || string(res.Body) != "created" {
				t.Fatalf("Fire = %d %q %v, want 201 created", res.StatusCode, res.Body, err)
			}
			r := tg.only(t)
			if r.Method != http.MethodPut || r.Path != "/orders" || string(r.Body) != `{"id":"e1"}` {
				t.Errorf("target got %s %s %s, want PUT /orders with the payload", r.Method, r.Path, r.Body)
			}
			if r.Header.Get("X-Flint") != "yes" || r.Header.Get("Idempotency-Key") != "s/call/dep:e1" {
				t.Errorf("headers = %v", r.Header)
			}
		},
		Blocking: "url: " + block.URL,
	})
}
