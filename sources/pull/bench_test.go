package pull_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/pull"
)

// benchBodies are b.N bodies of about 1 KiB.
func benchBodies(n int) []string {
	pad := strings.Repeat("x", 1000)
	out := make([]string, n)
	for i := range out {
		out[i] = pad
	}
	return out
}

// BenchmarkRunner is events per second through the runner from the fake
// queue to an emitter that stores nothing, acknowledgements on; compare it
// with BenchmarkPlainLoop, the same fake read and acked without the runner.
func BenchmarkRunner(b *testing.B) {
	q := newFakeQueue()
	q.Publish(benchBodies(b.N)...)
	emit := func(context.Context, sources.Event) error { return nil }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ResetTimer()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = pull.Drain(ctx, q.Dial, emit, pull.Options{Name: "bench", Idle: time.Millisecond}, time.Now().Add(time.Hour))
	}()
	<-done
	b.StopTimer()
	if acked, _, _ := q.counts(); len(acked) != b.N {
		b.Fatalf("acked %d of %d", len(acked), b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkPlainLoop is the fake queue read and acked one message after
// another, the bound the runner is measured against.
func BenchmarkPlainLoop(b *testing.B) {
	q := newFakeQueue()
	q.Publish(benchBodies(b.N)...)
	emit := func(context.Context, sources.Event) error { return nil }
	ctx := context.Background()
	c, err := q.Dial(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for n := 0; n < b.N; {
		msgs, err := c.Receive(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range msgs {
			if err := emit(ctx, sources.Event{Name: "bench", Data: m.Data, ID: m.ID}); err != nil {
				b.Fatal(err)
			}
			if err := c.Ack(ctx, m); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
