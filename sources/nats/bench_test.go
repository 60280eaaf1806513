package nats_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"

	"github.com/flintevents/flint/sources"
)

// window bounds the messages published and not yet received, so that
// neither the server nor the client drops any as a slow consumer.
const window = 8192

// BenchmarkReceive compares, in one run, the source (through the pull
// runner into a counting emitter) with the client's plain subscribe loop,
// at 1 KiB per message; both report events/s. Core NATS takes no
// acknowledgement, so neither acknowledges.
func BenchmarkReceive(b *testing.B) {
	payload := make([]byte, 1024)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	b.Run("source", func(b *testing.B) {
		srv := startServer(b, server.Options{})
		var got atomic.Int64
		emit := func(context.Context, sources.Event) error { got.Add(1); return nil }
		run(b, load(b, "testdata/queue.yaml", srv.URL()), sources.Deps{}, emit)
		srv.waitSubscribed(b, 1)
		publishAll(b, srv.connect(b), payload, &got)
	})
	b.Run("plain subscribe", func(b *testing.B) {
		srv := startServer(b, server.Options{})
		var got atomic.Int64
		sub := srv.connect(b)
		ch := make(chan *natsgo.Msg, 64*1024)
		if _, err := sub.ChanQueueSubscribe("orders", "workers", ch); err != nil {
			b.Fatal(err)
		}
		if err := sub.Flush(); err != nil {
			b.Fatal(err)
		}
		go func() {
			for range ch {
				got.Add(1)
			}
		}()
		publishAll(b, srv.connect(b), payload, &got)
	})
}

// publishAll publishes b.N messages on "orders", at most window ahead of
// got, and waits until got counts them all.
func publishAll(b *testing.B, nc *natsgo.Conn, payload []byte, got *atomic.Int64) {
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		for int64(i)-got.Load() > window {
			time.Sleep(50 * time.Microsecond)
		}
		if err := nc.Publish("orders", payload); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for got.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d messages arrived", got.Load(), b.N)
		}
		time.Sleep(50 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
