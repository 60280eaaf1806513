package kafka_test

import (
	"bytes"
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/kafka"
)

// BenchmarkConsume reads b.N records of 1 KiB from a kfake topic of three
// partitions twice in the same run, committing as it goes: first with
// franz-go's own PollFetches+CommitRecords loop, then with the kafka source
// into an emitter that stores at once. It reports both rates, their ratio,
// and the process CPU time per record of each (kfake, in process, included
// in both).
func BenchmarkConsume(b *testing.B) {
	value := bytes.Repeat([]byte("x"), 1024)
	b.StopTimer()
	addr := newCluster(b, "orders").ListenAddrs()[0]
	rs := make([]*kgo.Record, b.N)
	for i := range rs {
		rs[i] = &kgo.Record{Topic: "orders", Value: value}
	}
	produce(b, addr, rs)
	b.StartTimer()

	plainWall, plainCPU := measure(func() { plainLoop(b, addr) })
	sourceWall, sourceCPU := measure(func() { sourceRun(b, addr) })

	n := float64(b.N)
	b.ReportMetric(n/plainWall.Seconds(), "plain-events/s")
	b.ReportMetric(n/sourceWall.Seconds(), "source-events/s")
	b.ReportMetric(sourceWall.Seconds()/plainWall.Seconds(), "wall-ratio")
	b.ReportMetric(float64(plainCPU.Microseconds())/n, "plain-cpu-µs/event")
	b.ReportMetric(float64(sourceCPU.Microseconds())/n, "source-cpu-µs/event")
}

// measure is the wall time f takes and the CPU time the process spends in it.
func measure(f func()) (wall, cpu time.Duration) {
	c0, t0 := cpuTime(), time.Now()
	f()
	return time.Since(t0), cpuTime() - c0
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// plainLoop is franz-go's consume loop: poll, then commit what was polled.
func plainLoop(b *testing.B, addr string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup("plain"), kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for n := 0; n < b.N; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			b.Fatalf("%d of %d records read", n, b.N)
		}
		rs := fs.Records()
		n += len(rs)
		if err := cl.CommitRecords(ctx, rs...); err != nil {
			b.Fatal(err)
		}
	}
}

// sourceRun runs the kafka source until it emitted b.N events.
func sourceRun(b *testing.B, addr string) {
	src, err := kafka.New(load(b, "group.yaml", addr), sources.Deps{})
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
	ran := make(chan error, 1)
	go func() { ran <- src.Run(ctx, emit) }()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("%d of %d events in 5m", n.Load(), b.N)
	}
	cancel()
	if err := <-ran; err != nil {
		b.Fatal(err)
	}
}
