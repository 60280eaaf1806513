// Package sensortest runs sensors through the engine for the tests of
// trigger types: sensors read from a test's testdata, the webhook events that
// fire them, and Argo's example sensors compiled as flint dev compiles them.
// It lives beside the engine, not among the triggers, which never import it.
package sensortest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/kube"
	"github.com/flintevents/flint/pkg/sensor"
	"github.com/flintevents/flint/triggers"
)

// LoadSensor strictly decodes testdata/<name>.yaml with NAMESPACE replaced
// by ns and each key of repl by its value.
func LoadSensor(t *testing.T, name, ns string, repl map[string]string) *v1alpha1.Sensor {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(raw), "NAMESPACE", ns)
	for k, v := range repl {
		text = strings.ReplaceAll(text, k, v)
	}
	var s v1alpha1.Sensor
	if err := yaml.UnmarshalStrict([]byte(text), &s); err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
	return &s
}

// WebhookEvent is the event of the webhook "example" with body as its body.
func WebhookEvent(id, body string) *event.Event {
	return &event.Event{
		Context: event.Context{ID: id, Source: "webhook", Subject: "example", Type: "webhook", SpecVersion: "1.0",
			DataContentType: "application/json", Time: time.Now().UTC()},
		Data: []byte(`{"header":{},"body":` + body + `}`),
	}
}

// NewSensor compiles s through the engine with clients as the cluster; the
// sensor is closed when the test ends.
func NewSensor(t *testing.T, clients *kube.Clients, s *v1alpha1.Sensor) *sensor.Sensor {
	t.Helper()
	sn, err := sensor.New(s, sensor.Options{Deps: triggers.Deps{Logger: zaptest.NewLogger(t), Kube: clients}})
	if err != nil {
		t.Fatalf("sensor.New = %v", err)
	}
	t.Cleanup(func() { _ = sn.Close() })
	return sn
}

// Handle runs the webhook event "e1" with body through s, compiled with
// clients, and returns Handle's error.
func Handle(t *testing.T, clients *kube.Clients, s *v1alpha1.Sensor, body string) error {
	t.Helper()
	return NewSensor(t, clients, s).Handle(t.Context(), WebhookEvent("e1", body))
}
