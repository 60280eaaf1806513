package dev_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/freeport"
)

// brokerBlock is the first message block of the default broker's stream in a data directory.
func brokerBlock(dataDir string) string {
	return filepath.Join(dataDir, "jetstream", "jetstream", "$G", "streams", "broker_default__default", "msgs", "1.blk")
}

func TestDamagedStoreIsReported(t *testing.T) {
	const n = 50
	tests := []struct {
		name    string
		corrupt func(t *testing.T, blk string)
		lost    bool
		// maxBytes and pad make small store blocks and events that fill several
		maxBytes int64
		pad      int
	}{
		{name: "intact store: no error"},
		{name: "random bytes over the block", lost: true, corrupt: func(t *testing.T, blk string) {
			f, err := os.OpenFile(blk, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			junk := make([]byte, 200)
			for i := range junk {
				junk[i] = byte(i*37 + 11)
			}
			if _, err := f.WriteAt(junk, 0); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "block truncated to half", lost: true, corrupt: func(t *testing.T, blk string) {
			info, err := os.Stat(blk)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(blk, info.Size()/2); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "last of several blocks deleted with the stream's index", lost: true, maxBytes: 120_000, pad: 1500, corrupt: func(t *testing.T, blk string) {
			all, err := filepath.Glob(filepath.Join(filepath.Dir(blk), "*.blk"))
			if err != nil {
				t.Fatal(err)
			}
			// The last block that holds an event, not one that a roll left empty.
			blocks := slices.DeleteFunc(all, func(b string) bool {
				info, err := os.Stat(b)
				return err != nil || info.Size() < 1500
			})
			if len(blocks) < 2 {
				t.Fatalf("want several block files with events, have %v", blocks)
			}
			last := slices.MaxFunc(blocks, func(a, b string) int {
				ai, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(a), ".blk"))
				bi, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(b), ".blk"))
				return ai - bi
			})
			for _, f := range []string{last, filepath.Join(filepath.Dir(blk), "index.db")} {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			// A target slower than the run: every event is still in its first
			// delivery when flint dev stops, pending on the trigger's consumer
			// (a failed delivery would move it to the retry lane instead).
			slow := newTarget(t, true, time.Minute)
			port := freeport.Port(t)
			opts := dev.Options{DataDir: dataDir, DrainTimeout: 200 * time.Millisecond}
			opts.Broker.MaxBytes = tc.maxBytes
			r := start(t, objects(t, port, slow.URL), opts)
			for i := range n {
				post(t, port, fmt.Sprint(i)+strings.Repeat("x", tc.pad))
			}
			// Every event handed out before the stop, however slow the machine.
			waitFor(t, func() bool { return slow.arrived.Load() == n })
			r.stop(t)
			opts.DrainTimeout = 0
			if tc.corrupt != nil {
				tc.corrupt(t, brokerBlock(dataDir))
			}

			up := newTarget(t, true, 0)
			again := start(t, objects(t, port, up.URL), opts)
			errs := again.logs.FilterLevelExact(zapcore.ErrorLevel).FilterMessageSnippet("event store is damaged")
			if !tc.lost {
				waitFor(t, func() bool { return up.count() == n })
				if errs.Len() != 0 {
					t.Errorf("an intact store reported as damaged: %v", errs.All())
				}
				again.stop(t)
				return
			}
			if errs.Len() != 1 {
				t.Fatalf("want one ERROR line naming the damaged stream, got %d; logs: %v", errs.Len(), again.logs.All())
			}
			if again.logs.Filter(func(e observer.LoggedEntry) bool { return e.LoggerName == "nats" && e.Level >= zapcore.WarnLevel }).Len() == 0 {
				t.Errorf("no warning of the NATS server about the damaged block; logs: %v", again.logs.All())
			}
			fields := errs.All()[0].ContextMap()
			if fields["stream"] != "broker_default__default" {
				t.Errorf("ERROR names stream %v, want broker_default__default", fields["stream"])
			}
			lost, _ := fields["lost"].(int64)
			if lost <= 0 || lost > n {
				t.Fatalf("ERROR counts %v lost events, want 1..%d", fields["lost"], n)
			}
			// The events the store still holds are delivered, and so are new ones;
			// the count of lost ones is exact here.
			// Events handed out before the stop come again once their
			// acknowledgement wait has passed.
			deadline := time.Now().Add(60 * time.Second)
			for up.count()+int(lost) < n {
				if time.Now().After(deadline) {
					t.Fatalf("%d events delivered and %d counted lost within 60s, want %d in all; logs: %v", up.count(), lost, n, again.logs.All())
				}
				time.Sleep(10 * time.Millisecond)
			}
			delivered := settled(up)
			if delivered+int(lost) != n {
				t.Errorf("%d events delivered and %d counted lost, want %d in all", delivered, lost, n)
			}
			post(t, port, "after")
			if got := settled(up); got != delivered+1 {
				t.Errorf("%d events delivered after a new one, want %d", got, delivered+1)
			}
			t.Logf("%s: %d of %d events lost, %d delivered", tc.name, lost, n, delivered)
			again.stop(t)
		})
	}
}

// settled is the count of events tg accepted once it stopped changing for a second.
func settled(tg *target) int {
	n, since := tg.count(), time.Now()
	for time.Since(since) < time.Second {
		time.Sleep(20 * time.Millisecond)
		if c := tg.count(); c != n {
			n, since = c, time.Now()
		}
	}
	return n
}
