package redisstream

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

// fill writes n entries of 1 KiB to the stream orders.
func fill(b *testing.B, c *redis.Client, n int) {
	b.Helper()
	body := strings.Repeat("x", 1024)
	ctx := context.Background()
	for i := 0; i < n; i += 1000 {
		p := c.Pipeline()
		for j := i; j < min(i+1000, n); j++ {
			p.XAdd(ctx, &redis.XAddArgs{Stream: "orders", Values: []string{"body", body}})
		}
		if _, err := p.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSource is events per second from a stream of 1 KiB entries
// through the source into an emitter that counts them, each acknowledged
// (XACK) after it; compare with BenchmarkPlainLoop in the same run.
func BenchmarkSource(b *testing.B) {
	srv := redistest.Start(b, "")
	c := srv.Client()
	defer c.Close()
	fill(b, c, b.N)
	src, err := New(load(b, "valid.yaml", srv.Addr), sources.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	emit := func(context.Context, sources.Event) error { n.Add(1); return nil }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() { done <- src.Run(ctx, emit) }()
	for n.Load() < int64(b.N) || pending(b, c, "orders", "flint-test") > 0 {
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}

// BenchmarkPlainLoop is the same stream read with go-redis alone:
// XREADGROUP of 50 entries, then one XACK of the batch.
func BenchmarkPlainLoop(b *testing.B) {
	srv := redistest.Start(b, "")
	c := srv.Client()
	defer c.Close()
	fill(b, c, b.N)
	ctx := context.Background()
	if err := c.XGroupCreateMkStream(ctx, "orders", "plain", "0").Err(); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	emit := func(context.Context, sources.Event) error { n.Add(1); return nil }
	b.ResetTimer()
	start := time.Now()
	for n.Load() < int64(b.N) {
		res, err := c.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: "plain", Consumer: "plain", Streams: []string{"orders", ">"}, Count: 50, Block: time.Second,
		}).Result()
		if err != nil {
			b.Fatal(err)
		}
		for _, st := range res {
			ids := make([]string, 0, len(st.Messages))
			for _, m := range st.Messages {
				_ = emit(ctx, sources.Event{ID: m.ID})
				ids = append(ids, m.ID)
			}
			if err := c.XAck(ctx, st.Stream, "plain", ids...).Err(); err != nil {
				b.Fatal(err)
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}
