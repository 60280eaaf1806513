package kafka_test

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/kafka"
)

// rounds is how many times each loop reads the topic in one benchmark run;
// the medians are reported, as one round varies several times over.
const rounds = 5

// BenchmarkConsume reads b.N records of 1 KiB from a kfake topic of three
// partitions, committing as it goes, in interleaved rounds: franz-go's own
// PollFetches+CommitRecords loop, then the kafka source into an emitter that
// stores at once, each round under a new consumer group. It reports the
// median rate of each, the median of the rounds' ratios, and the median
// process CPU time per record of each (kfake, in process, included in both).
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

	var plainRate, sourceRate, ratio, plainCPU, sourceCPU []float64
	n := float64(b.N)
	for round := range rounds {
		group := "round-" + strconv.Itoa(round)
		pw, pc := measure(func() { plainLoop(b, addr, "plain-"+group) })
		sw, sc := measure(func() { sourceRun(b, addr, "source-"+group) })
		plainRate = append(plainRate, n/pw.Seconds())
		sourceRate = append(sourceRate, n/sw.Seconds())
		ratio = append(ratio, sw.Seconds()/pw.Seconds())
		plainCPU = append(plainCPU, float64(pc.Nanoseconds())/1e3/n)
		sourceCPU = append(sourceCPU, float64(sc.Nanoseconds())/1e3/n)
	}
	b.ReportMetric(median(plainRate), "plain-events/s")
	b.ReportMetric(median(sourceRate), "source-events/s")
	b.ReportMetric(median(ratio), "wall-ratio")
	b.ReportMetric(median(plainCPU), "plain-cpu-µs/event")
	b.ReportMetric(median(sourceCPU), "source-cpu-µs/event")
}

func median(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
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
func plainLoop(b *testing.B, addr, group string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics("orders"),
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

// sourceRun runs the kafka source, as a member of group, until it emitted
// b.N events.
func sourceRun(b *testing.B, addr, group string) {
	es := load(b, "group.yaml", addr)
	e := es.Spec.Kafka["orders"]
	e.ConsumerGroup.GroupName = group
	es.Spec.Kafka["orders"] = e
	src, err := kafka.New(es, sources.Deps{})
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
