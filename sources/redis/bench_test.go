package redis

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/flintevents/flint/pkg/conn/redisconn/redistest"
	"github.com/flintevents/flint/sources"
)

// publishN publishes n messages of 1 KiB on the channel news, pipelined.
func publishN(b *testing.B, c *redis.Client, n int) {
	b.Helper()
	body := strings.Repeat("x", 1024)
	ctx := context.Background()
	for i := 0; i < n; i += 500 {
		p := c.Pipeline()
		for j := i; j < min(i+500, n); j++ {
			p.Publish(ctx, "news", body)
		}
		if _, err := p.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// waitCount waits until n reaches want, or fails after a minute.
func waitCount(b *testing.B, n *atomic.Int64, want int64) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for n.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d messages arrived", n.Load(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkSource is events per second from messages of 1 KiB published on
// a channel, through the source into an emitter that counts them; compare
// with BenchmarkPlainSubscribe in the same run.
func BenchmarkSource(b *testing.B) {
	srv := redistest.Start(b, "")
	c := srv.Client()
	defer c.Close()
	var n atomic.Int64
	emit := func(context.Context, sources.Event) error { n.Add(1); return nil }
	start(b, srv, "valid.yaml", sources.Deps{}, emit)
	b.ResetTimer()
	began := time.Now()
	publishN(b, c, b.N)
	waitCount(b, &n, int64(b.N))
	elapsed := time.Since(began)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}

// BenchmarkPlainSubscribe is the same messages read with go-redis alone:
// SUBSCRIBE and a loop over its channel.
func BenchmarkPlainSubscribe(b *testing.B) {
	srv := redistest.Start(b, "")
	c := srv.Client()
	defer c.Close()
	ctx := context.Background()
	sub := c.Subscribe(ctx, "news")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		b.Fatal(err)
	}
	ch := sub.Channel(redis.WithChannelSize(Buffer))
	var n atomic.Int64
	emit := func(context.Context, sources.Event) error { n.Add(1); return nil }
	go func() {
		for m := range ch {
			_ = emit(ctx, sources.Event{Data: []byte(m.Payload)})
		}
	}()
	b.ResetTimer()
	began := time.Now()
	publishN(b, c, b.N)
	waitCount(b, &n, int64(b.N))
	elapsed := time.Since(began)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}
