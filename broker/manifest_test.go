package broker_test

import (
	"strings"
	"testing"

	"github.com/flintevents/flint/broker"
)

const sampleManifest = `# flint dev brokers
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: default
  namespace: demo
spec:
  delivery:
    retry: 3
    backoffPolicy: exponential
    backoffDelay: PT0.2S
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: webhook-sensor
  namespace: demo
spec:
  broker: default
  filter:
    attributes:
      type: webhook
  subscriber:
    uri: http://127.0.0.1:9000/
---
# only a comment
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: all
  namespace: demo
spec:
  broker: default
  filters:
  - prefix:
      type: order.
  subscriber:
    uri: http://127.0.0.1:9001/
`

func TestDecode(t *testing.T) {
	t.Parallel()
	m, err := broker.Decode(strings.NewReader(sampleManifest))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Brokers) != 1 || len(m.Triggers) != 2 {
		t.Fatalf("decoded %d brokers and %d triggers, want 1 and 2", len(m.Brokers), len(m.Triggers))
	}
	if b := m.Brokers[0]; b.Namespace != "demo" || *b.Spec.Delivery.Retry != 3 {
		t.Errorf("broker = %+v", b)
	}
	if tr := m.Triggers[0]; tr.Spec.Filter.Attributes["type"] != "webhook" || tr.Spec.Subscriber.URI.String() != "http://127.0.0.1:9000/" {
		t.Errorf("trigger = %+v", tr.Spec)
	}
	if tr := m.Triggers[1]; tr.Spec.Filters[0].Prefix["type"] != "order." {
		t.Errorf("trigger filters = %+v", tr.Spec.Filters)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, want string
	}{
		{name: "unknown field", doc: "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {name: t}\nspec: {brokr: x}\n", want: "unknown field"},
		{name: "other kind", doc: "apiVersion: eventing.knative.dev/v1\nkind: Channel\nmetadata: {name: c}\n", want: `kind "Channel"`},
		{name: "other apiVersion", doc: "apiVersion: argoproj.io/v1alpha1\nkind: Sensor\nmetadata: {name: s}\n", want: "apiVersion"},
		{name: "second document", doc: "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: b}\n---\nkind: [\n", want: "document 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := broker.Decode(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
