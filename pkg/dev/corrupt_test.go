package dev_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/flintevents/flint/pkg/dev"
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			down := newTarget(t, false, 0)
			port := freePort(t)
			opts := dev.Options{DataDir: dataDir}
			r := start(t, objects(t, port, down.URL), opts)
			for i := range n {
				post(t, port, fmt.Sprint(i))
			}
			r.stop(t)
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
			// The events the store still holds are delivered, and so are new ones.
			waitFor(t, func() bool { return up.count() == n-int(lost) })
			post(t, port, "after")
			waitFor(t, func() bool { return up.count() == n-int(lost)+1 })
			time.Sleep(200 * time.Millisecond)
			if got := up.count(); got != n-int(lost)+1 {
				t.Errorf("%d events delivered, want the %d intact ones and the new one", got, n-int(lost))
			}
			t.Logf("%s: %d of %d events lost, %d delivered", tc.name, lost, n, n-int(lost))
			again.stop(t)
		})
	}
}
