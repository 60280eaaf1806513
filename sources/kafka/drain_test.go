package kafka_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/kafka"
	"github.com/flintevents/flint/sources/pull"
)

// TestDrain is how a kafka source woken from zero works: a drain reads the
// group's backlog of 50 records, stores each, reports the topic empty and
// returns; the next drain finds nothing and returns at once; records
// produced in between are the third drain's.
func TestDrain(t *testing.T) {
	t.Parallel()
	addr := newCluster(t, "orders").ListenAddrs()[0]
	records := func(from, n int) []*kgo.Record {
		rs := make([]*kgo.Record, n)
		for i := range rs {
			rs[i] = &kgo.Record{Topic: "orders", Value: fmt.Appendf(nil, `{"n":%d}`, from+i)}
		}
		return rs
	}
	produce(t, addr, records(0, 50))
	src, err := kafka.New(load(t, "group.yaml", addr), sources.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	d, ok := src.(pull.Drainer)
	if !ok {
		t.Fatal("the kafka source cannot drain")
	}
	var stored atomic.Int64
	emit := func(context.Context, sources.Event) error { stored.Add(1); return nil }
	drain := func(want int64) {
		t.Helper()
		before := stored.Load()
		got, err := d.Drain(t.Context(), emit, time.Now().Add(30*time.Second))
		if err != nil {
			t.Fatalf("Drain: %v", err)
		}
		if got.Count != want || !got.Empty || stored.Load()-before != want {
			t.Errorf("Drain = %+v with %d stored, want %d and an empty topic", got, stored.Load()-before, want)
		}
	}
	drain(50)
	start := time.Now()
	drain(0)
	t.Logf("an empty drain took %s", time.Since(start).Round(time.Millisecond))
	produce(t, addr, records(50, 7))
	drain(7)
}
