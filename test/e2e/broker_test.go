package e2e

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBrokerYAML runs flint dev on Knative Broker and Trigger YAML alone and
// drives the ingress the way curl would.
func TestBrokerYAML(t *testing.T) {
	t.Parallel()
	sub := newTarget(t, nil)
	failing := newTarget(t, func(int) int { return http.StatusInternalServerError })
	dls := newTarget(t, nil)
	docs := map[string]string{"broker.yaml": fmt.Sprintf(`apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: default
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: orders
spec:
  broker: default
  filter:
    attributes:
      type: order.created
  subscriber:
    uri: %s/orders
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: flaky
spec:
  broker: default
  filters:
    - prefix:
        type: payment.
  subscriber:
    uri: %s/pay
  delivery:
    retry: 2
    backoffPolicy: linear
    backoffDelay: PT0.05S
    deadLetterSink:
      uri: %s/dls
`, sub.URL, failing.URL, dls.URL)}
	dev := startDev(t, docs, nil)
	if !strings.HasPrefix(dev.ingress, "http://127.0.0.1:") || !strings.HasSuffix(dev.ingress, "/default/default") {
		t.Fatalf("ingress URL %q", dev.ingress)
	}

	send := func(id, typ, body string, extra ...string) int {
		h := append([]string{"Ce-Specversion", "1.0", "Ce-Id", id, "Ce-Source", "curl", "Ce-Type", typ}, extra...)
		code, _ := post(t, http.MethodPost, dev.ingress, "application/json", body, h...)
		return code
	}

	// Delivered, once, although sent twice with the same source and id.
	if code := send("order-1", "order.created", `{"n":1}`); code != http.StatusAccepted {
		t.Fatalf("first send = %d, want 202", code)
	}
	if code := send("order-1", "order.created", `{"n":1}`); code != http.StatusAccepted {
		t.Fatalf("duplicate send = %d, want 202", code)
	}
	got := sub.next(t, dev)
	if got.Header.Get("Ce-Id") != "order-1" || string(got.Body) != `{"n":1}` {
		t.Fatalf("subscriber got id %q body %s", got.Header.Get("Ce-Id"), got.Body)
	}
	// A failing subscriber's event ends in the dead-letter sink with the error extensions.
	if code := send("pay-1", "payment.failed", `{"amount":3}`); code != http.StatusAccepted {
		t.Fatalf("send = %d", code)
	}
	dl := dls.next(t, dev)
	if dl.Header.Get("Ce-Id") != "pay-1" {
		t.Fatalf("dead letter id %q", dl.Header.Get("Ce-Id"))
	}
	if dest := dl.Header.Get("Ce-Knativeerrordest"); dest != failing.URL+"/pay" {
		t.Fatalf("knativeerrordest = %q, want %s/pay", dest, failing.URL)
	}
	if code := dl.Header.Get("Ce-Knativeerrorcode"); code != "500" {
		t.Fatalf("knativeerrorcode = %q", code)
	}
	if _, err := base64.StdEncoding.DecodeString(dl.Header.Get("Ce-Knativeerrordata")); err != nil {
		t.Fatalf("knativeerrordata is not base64: %v", err)
	}
	select {
	case dup := <-sub.got:
		t.Fatalf("duplicate delivered: %s", dup.Header.Get("Ce-Id"))
	case <-time.After(300 * time.Millisecond):
	}

	// Bad requests.
	tests := []struct {
		name   string
		method string
		url    string
		header []string
		body   string
		want   int
	}{
		{"not a CloudEvent", http.MethodPost, dev.ingress, nil, `{}`, http.StatusBadRequest},
		{"missing id", http.MethodPost, dev.ingress, []string{"Ce-Specversion", "1.0", "Ce-Source", "s", "Ce-Type", "t"}, `{}`, http.StatusBadRequest},
		{"unknown broker", http.MethodPost, strings.TrimSuffix(dev.ingress, "default") + "nope", []string{"Ce-Specversion", "1.0", "Ce-Id", "1", "Ce-Source", "s", "Ce-Type", "t"}, `{}`, http.StatusNotFound},
		{"wrong method", http.MethodGet, dev.ingress, nil, "", http.StatusMethodNotAllowed},
		{"too large", http.MethodPost, dev.ingress, []string{"Ce-Specversion", "1.0", "Ce-Id", "big", "Ce-Source", "s", "Ce-Type", "t"}, `"` + strings.Repeat("x", 1<<20+10) + `"`, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, tc.method, tc.url, "application/json", tc.body, tc.header...)
			if code != tc.want {
				t.Fatalf("%s = %d %q, want %d", tc.name, code, body, tc.want)
			}
		})
	}
}
