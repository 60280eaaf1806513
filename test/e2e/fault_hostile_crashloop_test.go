package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/freeport"
)

// TestFaultHostileCrashLoopIsQuarantined kills flint dev with SIGKILL twice
// while the same event is in flight (its target holds the request until the
// process is gone), on one data directory: the third run does not deliver it
// again but dead-letters it as quarantined, names it in an ERROR line, and
// `flint dlq list` shows it with the reason, so an event that kills the
// process cannot make it crash in a loop.
func TestFaultHostileCrashLoopIsQuarantined(t *testing.T) {
	t.Parallel()
	var arrivals atomic.Int32
	hold := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrivals.Add(1)
		// Read to the end, so that the server notices the sender going away.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done(): // the process that sent it is gone
		case <-time.After(20 * time.Second):
		}
	}))
	t.Cleanup(hold.Close)
	port := freeport.Port(t)
	docs := webhookYAML(port, hold.URL, "")
	dataDir := t.TempDir()
	hook := fmt.Sprintf("http://127.0.0.1:%d/orders", port)

	waitArrivals := func(dev *devProc, want int32) {
		t.Helper()
		// After a restart, JetStream hands an event that was in flight out again
		// once the dispatcher's ack wait (8 s) has passed.
		deadline := time.Now().Add(45 * time.Second)
		for arrivals.Load() < want {
			if time.Now().After(deadline) {
				t.Fatalf("the target saw %d deliveries, want %d\n%s", arrivals.Load(), want, tail(dev.output(), 6000))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for run := int32(1); run <= 2; run++ {
		dev := startDev(t, docs, nil, "--data-dir", dataDir)
		waitListening(t, port)
		if run == 1 {
			code, body := post(t, http.MethodPost, hook, "application/json",
				`{"kind":"order","id":"crasher","amount":50}`, "X-Customer", "acme")
			if code != http.StatusOK {
				t.Fatalf("POST = %d %q, want 200", code, body)
			}
		}
		waitArrivals(dev, run)
		dev.signalAndWait(t, syscall.SIGKILL)
	}

	third := startDev(t, docs, nil, "--data-dir", dataDir)
	waitListening(t, port)
	deadline := time.Now().Add(45 * time.Second)
	for {
		if line, ok := third.logged("event quarantined: it was in flight during two runs that ended without settling it"); ok {
			if line["level"] != "error" && line["level"] != "ERROR" {
				t.Errorf("quarantine logged at level %v, want error", line["level"])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no quarantine logged within 45s of the third start\n%s", tail(third.output(), 6000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second) // room for a wrong third delivery
	if n := arrivals.Load(); n != 2 {
		t.Errorf("the target saw %d deliveries, want 2: the quarantined event must not be delivered a third time", n)
	}
	third.signalAndWait(t, syscall.SIGTERM)

	out, err := exec.Command(flintBin, "dlq", "list", "--data-dir", dataDir, "-o", "json").Output()
	if err != nil {
		t.Fatalf("flint dlq list: %v\n%s", err, out)
	}
	var letters []struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(out, &letters); err != nil {
		t.Fatalf("flint dlq list -o json: %v\n%s", err, out)
	}
	if len(letters) != 1 || !strings.Contains(letters[0].Error, "quarantined") {
		t.Fatalf("dead letters %+v, want the one event, quarantined", letters)
	}
}
