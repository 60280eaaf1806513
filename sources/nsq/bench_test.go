package nsq

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nsqio/go-nsq"
	"go.uber.org/zap"

	"github.com/flintevents/flint/sources"
)

// benchTopics numbers the topics of the benchmarks' rounds.
var benchTopics atomic.Int64

// benchRound publishes n messages of 1 KiB to a new topic of s, with its
// channel, and returns the topic.
func benchRound(b *testing.B, s *server, n int) string {
	b.Helper()
	topic := fmt.Sprintf("bench-%d", benchTopics.Add(1))
	s.CreateChannel(topic, "flint")
	body := bytes.Repeat([]byte("x"), 1024)
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = body
	}
	if err := s.Publish(context.Background(), topic, msgs); err != nil {
		b.Fatal(err)
	}
	return topic
}

// BenchmarkNSQ is events per second from nsqd at 1 KiB per message: "source"
// through this source into an emitter that counts what it stored, each
// message finished once stored; "plain" a bare go-nsq consumer whose handler
// does nothing, finished by go-nsq, with the same max-in-flight. Both read
// the same nsqd in the same run; the ratio of the two is the source's cost.
func BenchmarkNSQ(b *testing.B) {
	s := startServer(b)
	inFlight := defaultSettings().inFlight
	b.Run("plain", func(b *testing.B) {
		topic := benchRound(b, s, b.N)
		var got atomic.Int64
		done := make(chan struct{})
		cfg := nsq.NewConfig()
		cfg.MaxInFlight = inFlight
		b.ResetTimer()
		start := time.Now()
		c, err := nsq.NewConsumer(topic, "flint", cfg)
		if err != nil {
			b.Fatal(err)
		}
		c.SetLogger(nil, nsq.LogLevelError)
		c.AddHandler(nsq.HandlerFunc(func(*nsq.Message) error {
			if got.Add(1) == int64(b.N) {
				close(done)
			}
			return nil
		}))
		if err := c.ConnectToNSQLookupd(s.LookupdAddress()); err != nil {
			b.Fatal(err)
		}
		<-done
		b.StopTimer()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		c.Stop()
		<-c.StopChan
	})
	b.Run("source", func(b *testing.B) {
		topic := benchRound(b, s, b.N)
		es := entrySpec(b, s, topic, nil)
		src, err := newSource(es, sources.Deps{Logger: zap.NewNop()}, defaultSettings())
		if err != nil {
			b.Fatal(err)
		}
		var got atomic.Int64
		var last atomic.Pointer[sources.Event]
		done := make(chan struct{})
		emit := func(_ context.Context, ev sources.Event) error {
			last.Store(&ev)
			if got.Add(1) == int64(b.N) {
				close(done)
			}
			return nil
		}
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan error, 1)
		b.ResetTimer()
		start := time.Now()
		go func() { stopped <- src.Run(ctx, emit) }()
		<-done
		b.StopTimer()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		cancel()
		if err := <-stopped; err != nil {
			b.Fatal(err)
		}
		if st := s.Stats(topic, "flint"); st.Depth != 0 {
			b.Fatalf("%d messages left at nsqd", st.Depth)
		}
		if ev := last.Load(); ev == nil || len(ev.Data) < 1024 {
			b.Fatal("the events carry no body")
		}
	})
}
