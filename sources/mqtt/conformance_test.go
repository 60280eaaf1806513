package mqtt_test

import (
	"context"
	"encoding/json"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/mqtt"
	"github.com/flintevents/flint/sources/sourcetest"
)

// pullBackend is a mosquitto the test started, as the conformance kit's
// origin: every source it builds uses the same client id, so a new one
// takes over the persistent session the last one left.
type pullBackend struct {
	m *mosquitto
}

func (b pullBackend) Source(t *testing.T) sources.Source {
	es := sourcetest.Load(t, "testdata/conformance.yaml")
	spec := es.Spec.MQTT["example"]
	spec.URL = b.m.url()
	es.Spec.MQTT["example"] = spec
	src, err := mqtt.New(es, sources.Deps{Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func (b pullBackend) Publish(ctx context.Context, bodies []string) error {
	raw := make([][]byte, len(bodies))
	for i, s := range bodies {
		raw[i] = []byte(s)
	}
	return b.m.publish(ctx, "conformance/x", raw...)
}

func (b pullBackend) Body(ev sources.Event) (string, error) {
	var d struct {
		Body []byte `json:"body"`
	}
	err := json.Unmarshal(ev.Data, &d)
	return string(d.Body), err
}

func (b pullBackend) StopBroker(t *testing.T)  { b.m.stop(t) }
func (b pullBackend) StartBroker(t *testing.T) { b.m.start(t) }

func TestPullConformance(t *testing.T) {
	m := startMosquitto(t, nil)
	b := pullBackend{m: m}
	// The first connection makes the persistent session, so that what the
	// kit publishes before its first source runs is kept for it.
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	got := make(chan struct{}, 1)
	go func() {
		done <- b.Source(t).Run(ctx, func(context.Context, sources.Event) error {
			select {
			case got <- struct{}{}:
			default:
			}
			return nil
		})
	}()
	untilSubscribed(t, m, "conformance/warmup", got)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sourcetest.RunPull(t, b)
}
