package mqtt_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/zap"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/mqtt"
)

// BenchmarkConsume is events per second from a mosquitto the benchmark
// started, 1 KiB each, QoS 1 with acknowledgements: "source" through the
// mqtt source into an emitter that stores nothing, "plain" paho's own
// subscribe-and-ack loop on the same broker, in the same run. Each reads b.N
// messages queued for its persistent session before the clock starts.
// Both are bound by mosquitto's in-flight window (20 unacknowledged
// messages by default); FLINT_MQTT_INFLIGHT=1000 measures with a wider one.
func BenchmarkConsume(b *testing.B) {
	m := startMosquitto(b, nil)
	body := []byte(strings.Repeat("x", 1024))
	b.Run("source", func(b *testing.B) {
		id := fmt.Sprintf("bench-source-%d", time.Now().UnixNano())
		queue(b, m, id, body)
		es := load(b, "conformance.yaml", m)
		spec := es.Spec.MQTT["example"]
		spec.ClientID, spec.Topic = id, "bench/"+id
		es.Spec.MQTT["example"] = spec
		src, err := mqtt.New(es, sources.Deps{Logger: zap.NewNop()})
		if err != nil {
			b.Fatal(err)
		}
		var n atomic.Int64
		done := make(chan struct{})
		emit := func(context.Context, sources.Event) error {
			if n.Add(1) == int64(b.N) {
				close(done)
			}
			return nil
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		b.ResetTimer()
		start := time.Now()
		go func() { _ = src.Run(ctx, emit) }()
		wait(b, done)
		b.StopTimer()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	})
	b.Run("plain", func(b *testing.B) {
		id := fmt.Sprintf("bench-plain-%d", time.Now().UnixNano())
		queue(b, m, id, body)
		var n atomic.Int64
		done := make(chan struct{})
		handle := func(_ paho.Client, msg paho.Message) {
			msg.Ack()
			if n.Add(1) == int64(b.N) {
				close(done)
			}
		}
		o := pahoOptions(m, id).SetCleanSession(false).SetAutoAckDisabled(true).SetDefaultPublishHandler(handle)
		b.ResetTimer()
		start := time.Now()
		c := paho.NewClient(o)
		if err := waitToken(context.Background(), c.Connect()); err != nil {
			b.Fatal(err)
		}
		defer c.Disconnect(100)
		if err := waitToken(context.Background(), c.Subscribe("bench/"+id, mqtt.QoS, handle)); err != nil {
			b.Fatal(err)
		}
		wait(b, done)
		b.StopTimer()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	})
}

// queue makes the persistent session of client id, subscribed to
// bench/<id>, and publishes b.N copies of body for it.
func queue(b *testing.B, m *mosquitto, id string, body []byte) {
	b.Helper()
	c := paho.NewClient(pahoOptions(m, id).SetCleanSession(false))
	if err := waitToken(context.Background(), c.Connect()); err != nil {
		b.Fatal(err)
	}
	if err := waitToken(context.Background(), c.Subscribe("bench/"+id, mqtt.QoS, nil)); err != nil {
		b.Fatal(err)
	}
	c.Disconnect(100)
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = body
	}
	if err := m.publish(context.Background(), "bench/"+id, bodies...); err != nil {
		b.Fatal(err)
	}
}

func wait(b *testing.B, done <-chan struct{}) {
	b.Helper()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatal("not every message arrived in 2 minutes")
	}
}
