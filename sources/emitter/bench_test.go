package emitter_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/emitter/emittertest"
)

// benchPayload is a 1 KiB message body.
var benchPayload = []byte(strings.Repeat("x", 1024))

// publishAll has the stand-in send n messages on chat/ and waits until
// count reaches n.
func publishAll(b *testing.B, broker *emittertest.Broker, n int64, count *atomic.Int64) {
	b.Helper()
	start := time.Now()
	go func() {
		for range n {
			broker.Publish("chat/", benchPayload)
		}
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for count.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d messages arrived", count.Load(), n)
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkSource is events per second from the stand-in broker through
// the emitter source (the pull runner, event data, a recording emitter), at
// 1 KiB per event; compare with BenchmarkPlainSubscribe in the same run.
func BenchmarkSource(b *testing.B) {
	broker := startBroker(b, emittertest.Options{}, nil)
	var count atomic.Int64
	emit := func(_ context.Context, ev sources.Event) error {
		if len(ev.Data) < len(benchPayload) {
			b.Errorf("event data of %d bytes", len(ev.Data))
		}
		count.Add(1)
		return nil
	}
	run(b, load(b, "valid.yaml", broker), sources.Deps{}, emit)
	waitSubscribed(b, broker, 1)
	b.ResetTimer()
	publishAll(b, broker, int64(b.N), &count)
}

// BenchmarkPlainSubscribe is the same client (paho, MQTT 3.1.1, QoS 0 as
// emitter delivers) subscribed to the channel with a handler that counts
// each message: the bound BenchmarkSource is measured against.
func BenchmarkPlainSubscribe(b *testing.B) {
	broker := startBroker(b, emittertest.Options{}, nil)
	var count atomic.Int64
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + broker.Addr()).
		SetClientID("plain").SetProtocolVersion(4).
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) {
			if len(m.Payload()) == len(benchPayload) {
				count.Add(1)
			}
		}))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		b.Fatalf("connecting: %v", tok.Error())
	}
	defer c.Disconnect(0)
	if tok := c.Subscribe("readkey/chat/", 0, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		b.Fatalf("subscribing: %v", tok.Error())
	}
	waitSubscribed(b, broker, 1)
	b.ResetTimer()
	publishAll(b, broker, int64(b.N), &count)
}
