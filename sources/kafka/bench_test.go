package kafka_test

import (
	"bytes"
	"context"
	"encoding/json"
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
// PollFetches+CommitRecords loop, the same loop marshalling each record's
// Argo event data with encoding/json (the least a loop that forwards records
// does), then the kafka source into an emitter that
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

	var plainRate, argoRate, sourceRate, ratio, argoRatio, plainCPU, sourceCPU []float64
	n := float64(b.N)
	for round := range rounds {
		group := "round-" + strconv.Itoa(round)
		pw, pc := measure(func() { plainLoop(b, addr, "plain-"+group, nil) })
		aw, _ := measure(func() { plainLoop(b, addr, "argo-"+group, marshalArgo) })
		sw, sc := measure(func() { sourceRun(b, addr, "source-"+group) })
		argoRate = append(argoRate, n/aw.Seconds())
		argoRatio = append(argoRatio, sw.Seconds()/aw.Seconds())
		plainRate = append(plainRate, n/pw.Seconds())
		sourceRate = append(sourceRate, n/sw.Seconds())
		ratio = append(ratio, sw.Seconds()/pw.Seconds())
		plainCPU = append(plainCPU, float64(pc.Nanoseconds())/1e3/n)
		sourceCPU = append(sourceCPU, float64(sc.Nanoseconds())/1e3/n)
	}
	b.ReportMetric(median(plainRate), "plain-events/s")
	b.ReportMetric(median(argoRate), "plain+json-events/s")
	b.ReportMetric(median(sourceRate), "source-events/s")
	b.ReportMetric(median(ratio), "wall-ratio")
	b.ReportMetric(median(argoRatio), "wall-ratio-to-plain+json")
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

// marshalArgo is what a plain loop that forwards each record does at least:
// encoding/json writes Argo's event data of it.
func marshalArgo(r *kgo.Record) {
	headers := map[string]string{}
	for _, h := range r.Headers {
		headers[h.Key] = string(h.Value)
	}
	_, _ = json.Marshal(map[string]any{"topic": r.Topic, "key": string(r.Key), "partition": r.Partition,
		"body": r.Value, "timestamp": r.Timestamp.String(), "headers": headers})
}

// plainLoop is franz-go's consume loop: poll, run each record through each
// (when set), then commit what was polled.
func plainLoop(b *testing.B, addr, group string, each func(*kgo.Record)) {
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
		if each != nil {
			for _, r := range rs {
				each(r)
			}
		}
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
