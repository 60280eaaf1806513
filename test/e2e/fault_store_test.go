package e2e

import (
	"testing"
	"time"
)

// TestFaultStoreFullThenFreed fills a small broker store while the target is
// down: the webhook answers 503 for what no longer fits (those events are not
// accepted), and accepts again once the target is back and deliveries free
// the store. Every accepted event is delivered.
func TestFaultStoreFullThenFreed(t *testing.T) {
	t.Parallel()
	f := newFaultRun(t, 0)
	f.rc.down.Store(true)
	dev := f.start(t, nil, "--max-store-bytes", "65536")
	full := runBurst(f.hook, "full", 300, 0, nil)
	if len(full.accepted) == len(full.sent) {
		t.Fatalf("all %d events fit in a 64 KiB store: the store never filled", len(full.sent))
	}
	f.rc.down.Store(false)
	f.rc.waitAll(t, dev, full.accepted, settle)
	// The store is free again: new events are accepted.
	deadline := time.Now().Add(30 * time.Second)
	var after *burst
	for {
		after = runBurst(f.hook, "after", 20, 0, nil)
		if len(after.accepted) == len(after.sent) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(after.accepted) != len(after.sent) {
		t.Fatalf("after the store freed, %d of %d events accepted", len(after.accepted), len(after.sent))
	}
	f.rc.waitAll(t, dev, after.accepted, settle)
	accepted := len(full.accepted)
	for id := range after.sent {
		full.sent[id] = true
	}
	full.accepted = append(full.accepted, after.accepted...)
	f.report(t, full, 0, 0)
	t.Logf("store full: %d of 300 accepted while the target was down; after it came back %d of %d", accepted, len(after.accepted), len(after.sent))
}
