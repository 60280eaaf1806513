package dev_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/freeport"
)

// TestSmallStoreCapLeavesFewBlockFiles delivers many events through a broker whose
// store has a small size cap, so small blocks: the stream keeps a handful of block
// files, not one per event delivered.
func TestSmallStoreCapLeavesFewBlockFiles(t *testing.T) {
	tests := []struct {
		name     string
		maxBytes int64
		n        int
		pad      int
	}{
		{name: "50 kB cap, small events", maxBytes: 50_000, n: 600, pad: 100},
		{name: "50 kB cap, 1 kB events", maxBytes: 50_000, n: 400, pad: 1000},
		{name: "50 kB cap, 3 kB events", maxBytes: 50_000, n: 300, pad: 3000},
		{name: "1 MiB cap", maxBytes: 1 << 20, n: 600, pad: 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			tg := newTarget(t, true, 0)
			port := freeport.Port(t)
			opts := dev.Options{DataDir: dataDir}
			opts.Broker.MaxBytes = tc.maxBytes
			r := start(t, objects(t, port, tg.URL), opts)
			// One at a time, each delivered before the next: the stream empties
			// between two events, as at a moderate rate.
			for i := range tc.n {
				post(t, port, fmt.Sprint(i)+strings.Repeat("x", tc.pad))
				waitFor(t, func() bool { return tg.count() == i+1 })
			}
			r.stop(t)
			blocks, err := filepath.Glob(filepath.Join(dataDir, "jetstream", "jetstream", "$G", "streams", "broker_default__default", "msgs", "*.blk"))
			if err != nil {
				t.Fatal(err)
			}
			// A quarter of the cap per block: the cap fits in 4 and a marker in one more.
			if len(blocks) > 6 {
				t.Errorf("%d block files after %d events delivered, want at most 6", len(blocks), tc.n)
			}
			t.Logf("%d block files after %d events", len(blocks), tc.n)
		})
	}
}
