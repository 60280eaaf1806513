package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFaultHostileDamagedStore stops the real binary (SIGTERM, --drain-timeout
// 200ms) with 50 accepted events still in their first delivery to a target
// that answers after 3 s, overwrites the first 200 bytes of the broker
// stream's first message block, and starts it again on the same --data-dir:
// it logs one ERROR "event store is damaged" naming the stream and a count of
// lost events between 1 and 50, every other accepted event is still
// delivered, and a new event is delivered.
func TestFaultHostileDamagedStore(t *testing.T) {
	t.Parallel()
	const n = 50
	dataDir := t.TempDir()
	f := newFaultRun(t, 3*time.Second)
	first := f.start(t, nil, "--data-dir", dataDir, "--drain-timeout", "200ms")
	b := runBurst(f.hook, "stored", n, 0, nil)
	if len(b.accepted) != n {
		t.Fatalf("the webhook accepted %d of %d events\n%s", len(b.accepted), n, tail(first.output(), 6000))
	}
	first.signalAndWait(t, syscall.SIGTERM)

	blocks, err := filepath.Glob(filepath.Join(dataDir, "jetstream", "jetstream", "$G", "streams", "broker_*", "msgs", "1.blk"))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 1 {
		all, _ := filepath.Glob(filepath.Join(dataDir, "jetstream", "jetstream", "$G", "streams", "*", "msgs", "*.blk"))
		t.Fatalf("want the first block of one broker stream, found %v among %v", blocks, all)
	}
	stream := filepath.Base(filepath.Dir(filepath.Dir(blocks[0])))
	blk, err := os.OpenFile(blocks[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 200)
	for i := range junk {
		junk[i] = byte(i*37 + 11)
	}
	if _, err := blk.WriteAt(junk, 0); err != nil {
		t.Fatal(err)
	}
	if err := blk.Close(); err != nil {
		t.Fatal(err)
	}

	up := newRecorder(t, 0)
	again := &faultRun{port: f.port, hook: f.hook, docs: webhookYAML(f.port, up.URL, ""), rc: up}
	second := again.start(t, nil, "--data-dir", dataDir)
	var damaged []logLine
	for wait := time.Now().Add(20 * time.Second); len(damaged) == 0 && time.Now().Before(wait); time.Sleep(50 * time.Millisecond) {
		second.mu.Lock()
		for _, l := range second.lines {
			if strings.Contains(fmt.Sprint(l["msg"]), "event store is damaged") {
				damaged = append(damaged, l)
			}
		}
		second.mu.Unlock()
	}
	if len(damaged) != 1 {
		t.Fatalf("want one line naming the damaged store, got %d\n%s", len(damaged), tail(second.output(), 6000))
	}
	l := damaged[0]
	lost, _ := l["lost"].(float64)
	if !strings.EqualFold(fmt.Sprint(l["level"]), "error") || l["stream"] != stream || lost < 1 || lost > n {
		t.Fatalf("damaged store logged as %v, want level ERROR, stream %s and 1..%d lost", l, stream, n)
	}

	// Every accepted event is delivered (to either target) or counted lost.
	delivered := func() int {
		seen := map[string]bool{}
		for _, d := range append(f.rc.deliveries(), up.deliveries()...) {
			if b.sent[d.id] {
				seen[d.id] = true
			}
		}
		return len(seen)
	}
	deadline := time.Now().Add(90 * time.Second)
	for delivered()+int(lost) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events delivered and %d counted lost after 90s\n%s", delivered(), n, int(lost), tail(second.output(), 6000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	after := runBurst(f.hook, "after", 1, 0, nil)
	if len(after.accepted) != 1 {
		t.Fatalf("the webhook refused a new event after the restart\n%s", tail(second.output(), 6000))
	}
	up.waitAll(t, second, after.accepted, 30*time.Second)
	t.Logf("stream %s: %d of %d events counted lost, %d delivered", stream, int(lost), n, delivered())
}
