package bench

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// roundSenders is how many publishers wait on their acknowledgement at once in the
// saturated run, as the load generator's concurrent webhook requests do.
const roundSenders = 32

// BenchmarkJetStreamRound measures what one event costs in JetStream alone, the way
// flint dev uses it: a file stream with interest retention and DiscardNew, a publish
// with a de-duplication id that waits for its acknowledgement, a pull consumer that
// delivers it and an explicit ack that removes it. Nothing else runs, so its CPU per
// event and its latency are the least any durable flint event costs on this machine,
// next to which the one-hop relay of `make bench` is measured. GOMAXPROCS is set to
// one processor, as flint dev runs on two cores.
func BenchmarkJetStreamRound(b *testing.B) {
	b.Run("saturated", func(b *testing.B) { benchRound(b, 0) })
	b.Run("paced=1000/s", func(b *testing.B) { benchRound(b, 1000) })
}

// benchRound publishes b.N events (at least 2,000 when paced), at rate events/s or
// as fast as roundSenders allow, and reports the CPU per event; paced, also the
// latency from publish to delivery (saturated, it would measure the backlog).
func benchRound(b *testing.B, rate int) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	nc := natsdtest.ConnectTo(b, natsdtest.RunWith(b, natsd.Options{}))
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ROUND", Subjects: []string{"round"},
		Storage: jetstream.FileStorage, Retention: jetstream.InterestPolicy, Discard: jetstream.DiscardNew,
		MaxBytes: 1 << 30, Duplicates: 2 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "c", AckPolicy: jetstream.AckExplicitPolicy,
		MaxAckPending: 1000})
	if err != nil {
		b.Fatal(err)
	}
	n := b.N
	if rate > 0 {
		n = max(n, 2000)
	}
	var got atomic.Int64
	consumed := make(chan struct{})
	latencies := make([]time.Duration, 0, n)
	var mu sync.Mutex
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if sent, err := strconv.ParseInt(m.Headers().Get(benchSentHeader), 10, 64); err == nil {
			mu.Lock()
			latencies = append(latencies, time.Duration(time.Now().UnixNano()-sent))
			mu.Unlock()
		}
		_ = m.Ack()
		if got.Add(1) == int64(n) {
			close(consumed)
		}
	}, jetstream.PullMaxMessages(roundSenders))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()

	b.SetBytes(benchEventSize)
	measure(b, n, func() {
		start := time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range roundSenders {
			wg.Go(func() {
				for i := next.Add(1); i <= int64(n); i = next.Add(1) {
					if rate > 0 {
						time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
					}
					msg := &nats.Msg{Subject: "round", Data: benchPayload, Header: nats.Header{
						jetstream.MsgIDHeader: []string{fmt.Sprint("r", i)},
						benchSentHeader:       []string{strconv.FormatInt(time.Now().UnixNano(), 10)},
					}}
					if _, err := js.PublishMsg(ctx, msg); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		select {
		case <-consumed:
		case <-ctx.Done():
			b.Fatalf("consumed %d of %d", got.Load(), n)
		}
	})
	if rate == 0 {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	reportLatencies(b, latencies)
}
