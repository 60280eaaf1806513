package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// delivery is one request a recorder answered with 200, with the time it
// arrived.
type delivery struct {
	id  string
	key string
	at  time.Time
}

// recorder is an HTTP trigger target that records the Idempotency-Key and the
// event id of every request it accepts. While down it answers 503; each
// request takes delay, so a backlog builds up behind it.
type recorder struct {
	*httptest.Server
	down  atomic.Bool
	delay time.Duration
	mu    sync.Mutex
	got   []delivery
	nacks int
}

func newRecorder(t *testing.T, delay time.Duration) *recorder {
	t.Helper()
	rc := &recorder{delay: delay}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		time.Sleep(rc.delay)
		if rc.down.Load() {
			rc.mu.Lock()
			rc.nacks++
			rc.mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var p struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(body, &p)
		rc.mu.Lock()
		rc.got = append(rc.got, delivery{id: p.ID, key: r.Header.Get("Idempotency-Key"), at: arrived})
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	return rc
}

// deliveries returns a copy of what was delivered so far.
func (rc *recorder) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

// firstAfter is the time of the first delivery at or after since, if any.
func (rc *recorder) firstAfter(since time.Time) (time.Time, bool) {
	for _, d := range rc.deliveries() {
		if !d.at.Before(since) {
			return d.at, true
		}
	}
	return time.Time{}, false
}

// missing lists the accepted ids not delivered yet.
func (rc *recorder) missing(accepted []string) []string {
	seen := map[string]bool{}
	for _, d := range rc.deliveries() {
		seen[d.id] = true
	}
	var out []string
	for _, id := range accepted {
		if !seen[id] {
			out = append(out, id)
		}
	}
	return out
}

// waitAll waits, at most within, until every accepted id was delivered, and
// fails the test with the ids still missing otherwise.
func (rc *recorder) waitAll(t *testing.T, dev *devProc, accepted []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		miss := rc.missing(accepted)
		if len(miss) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d accepted events lost (not delivered within %s): %v\nflint dev logged:\n%s",
				len(miss), len(accepted), within, head(miss, 20), tail(dev.output(), 6000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tally checks that every delivered id was sent and that an id delivered
// more than once always carried one Idempotency-Key, and returns the number of
// distinct ids delivered and of duplicate requests.
func (rc *recorder) tally(t *testing.T, sent map[string]bool) (distinct, duplicated int) {
	t.Helper()
	keys := map[string]map[string]int{}
	for _, d := range rc.deliveries() {
		if !sent[d.id] {
			t.Errorf("delivered an id that was never sent: %q", d.id)
			continue
		}
		if d.key == "" {
			t.Errorf("event %s delivered without an Idempotency-Key", d.id)
		}
		if keys[d.id] == nil {
			keys[d.id] = map[string]int{}
		}
		keys[d.id][d.key]++
	}
	owner := map[string]string{}
	for id, ks := range keys {
		if len(ks) > 1 {
			t.Errorf("event %s delivered with %d different Idempotency-Keys: %v", id, len(ks), ks)
		}
		for k, n := range ks {
			duplicated += n - 1
			if other, ok := owner[k]; ok && k != "" {
				t.Errorf("events %s and %s share the Idempotency-Key %q", other, id, k)
			}
			owner[k] = id
		}
	}
	return len(keys), duplicated
}

// burst posts n orders to hook from a few workers and reports the ids the
// webhook accepted (answered 200). Requests that fail, because flint dev is
// going away, are not accepted. After the first `at` acceptances, fault runs
// once, while the burst goes on.
type burst struct {
	mu       sync.Mutex
	accepted []string
	sent     map[string]bool
}

func runBurst(hook, prefix string, n, at int, fault func()) *burst {
	b := &burst{sent: map[string]bool{}}
	client := &http.Client{Timeout: 15 * time.Second}
	ids := make(chan string)
	var once sync.Once
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for id := range ids {
				body := fmt.Sprintf(`{"kind":"order","id":%q,"amount":50}`, id)
				req, err := http.NewRequest(http.MethodPost, hook, strings.NewReader(body))
				if err != nil {
					continue
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Customer", "acme")
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					continue
				}
				b.mu.Lock()
				b.accepted = append(b.accepted, id)
				k := len(b.accepted)
				b.mu.Unlock()
				if k >= at && fault != nil {
					once.Do(fault)
				}
			}
		})
	}
	for i := range n {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		b.sent[id] = true
		ids <- id
	}
	close(ids)
	wg.Wait()
	sort.Strings(b.accepted)
	return b
}

// signalAndWait sends sig to flint dev and waits for it to exit; a SIGTERM
// must end in a clean exit.
func (p *devProc) signalAndWait(t *testing.T, sig syscall.Signal) {
	t.Helper()
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Fatalf("flint dev did not exit within 60s of %v\n%s", sig, tail(p.output(), 6000))
	}
	if sig != syscall.SIGKILL && p.exitErr != nil {
		t.Fatalf("flint dev exited with %v on %v\n%s", p.exitErr, sig, tail(p.output(), 6000))
	}
}

// logged returns the first log line with the message, if any.
func (p *devProc) logged(msg string) (logLine, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if l["msg"] == msg {
			return l, true
		}
	}
	return nil, false
}

func head(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
