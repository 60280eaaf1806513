package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFaultPoisonEventsDoNotStall sends 500 orders without the id the trigger's
// payload needs, each answered 200 by the webhook, then 100 good orders: the good
// ones all reach the target within 10 s, and `flint dlq list` shows the 500 others,
// each dead-lettered after one attempt with the reason.
func TestFaultPoisonEventsDoNotStall(t *testing.T) {
	t.Parallel()
	const poison, good = 500, 100
	f := newFaultRun(t, 0)
	dataDir := t.TempDir()
	dev := f.start(t, nil, "--data-dir", dataDir)
	client := &http.Client{Timeout: 15 * time.Second}
	for i := range poison {
		req, err := http.NewRequest(http.MethodPost, f.hook, strings.NewReader(fmt.Sprintf(`{"kind":"order","ref":%d,"amount":50}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Customer", "acme")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST of order without id %d = %d, want 200", i, resp.StatusCode)
		}
	}
	sent := time.Now()
	b := runBurst(f.hook, "good", good, 0, nil)
	if len(b.accepted) != good {
		t.Fatalf("the webhook accepted %d of %d good orders", len(b.accepted), good)
	}
	f.rc.waitAll(t, dev, b.accepted, 10*time.Second)
	t.Logf("%d good orders delivered %v after the first was sent, behind %d orders without an id",
		good, time.Since(sent).Round(time.Millisecond), poison)

	deadline := time.Now().Add(20 * time.Second)
	for dev.count("event dead-lettered") < poison {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d orders without an id dead-lettered after 20s\n%s", dev.count("event dead-lettered"), poison, tail(dev.output(), 6000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	dev.signalAndWait(t, syscall.SIGTERM)

	out, err := exec.Command(flintBin, "dlq", "list", "--data-dir", dataDir, "-o", "json").Output()
	if err != nil {
		t.Fatalf("flint dlq list: %v\n%s", err, out)
	}
	var letters []struct {
		Code     int    `json:"code"`
		Error    string `json:"error"`
		Attempts int    `json:"attempts"`
	}
	if err := json.Unmarshal(out, &letters); err != nil {
		t.Fatalf("flint dlq list -o json: %v\n%s", err, out)
	}
	if len(letters) != poison {
		t.Fatalf("flint dlq list shows %d dead letters, want %d", len(letters), poison)
	}
	for _, l := range letters {
		if l.Code != http.StatusUnprocessableEntity || l.Attempts != 1 || !strings.Contains(l.Error, "http.payload[0]") ||
			!strings.Contains(l.Error, "dataKey body.id: path does not exist") {
			t.Fatalf("dead letter with code %d after %d attempts and error %q, want 422 after 1 attempt naming http.payload[0] and body.id",
				l.Code, l.Attempts, l.Error)
		}
	}
}

// count is the number of log lines with the message.
func (p *devProc) count(msg string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.lines {
		if l["msg"] == msg {
			n++
		}
	}
	return n
}
