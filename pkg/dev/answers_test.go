package dev_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/freeport"
	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// noAnswer is the status recorded for a client that never read an answer.
const noAnswer = 0

// answers records the status each event's request got, by event id.
type answers struct {
	mu sync.Mutex
	by map[string]int
}

func (a *answers) set(id string, status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.by == nil {
		a.by = map[string]int{}
	}
	a.by[id] = status
}

// delivered counts the events the target received, by the id in their body.
func (tg *target) delivered(t *testing.T) map[string]int {
	t.Helper()
	tg.mu.Lock()
	defer tg.mu.Unlock()
	n := map[string]int{}
	for _, b := range tg.got {
		var v struct{ ID string }
		if err := json.Unmarshal([]byte(b), &v); err != nil {
			t.Fatalf("target got %q: %v", b, err)
		}
		n[v.ID]++
	}
	return n
}

// checkAnswers waits until every event answered 200 (or never answered) was
// delivered, lets the rest settle, and then asserts what each answer
// promised: 200 or no answer, delivered exactly once; 503, never delivered;
// 504 (may be stored), at most once. It returns the count of each status.
func checkAnswers(t *testing.T, tg *target, a *answers) map[int]int {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	stored := func() bool {
		got := tg.delivered(t)
		for id, status := range a.by {
			if (status == http.StatusOK || status == noAnswer) && got[id] == 0 {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(30 * time.Second)
	for !stored() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second) // a 503 that was stored after all would show by now
	got := tg.delivered(t)
	counts := map[int]int{}
	for id, status := range a.by {
		counts[status]++
		switch n := got[id]; {
		case (status == http.StatusOK || status == noAnswer) && n != 1:
			t.Errorf("event %s answered %d was delivered %d times, want once", id, status, n)
		case status == http.StatusServiceUnavailable && n != 0:
			t.Errorf("event %s answered 503 (not stored) was delivered %d times", id, n)
		case status == http.StatusGatewayTimeout && n > 1:
			t.Errorf("event %s answered 504 was delivered %d times, want at most once", id, n)
		case status != http.StatusOK && status != noAnswer && status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout:
			t.Errorf("event %s answered %d", id, status)
		}
	}
	for id := range got {
		if _, ok := a.by[id]; !ok {
			t.Errorf("delivered event %s was never sent", id)
		}
	}
	return counts
}

// TestAnswersDuringNATSOutage: while JetStream is down for longer than one
// acknowledgement is awaited (5 s) but less than the store's deadline, a
// webhook request waits for it: every request answered 200 fires exactly
// once, and one answered 503 never does.
func TestAnswersDuringNATSOutage(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.name, func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			srv := natsdtest.RunWith(t, natsd.Options{Port: -1})
			tg := newTarget(t, true, 0)
			port := freeport.Port(t)
			start(t, objects(t, port, tg.URL), dev.Options{ViaHTTP: w.viaHTTP, NATSURL: srv.ClientURL()})
			url := fmt.Sprintf("http://127.0.0.1:%d/orders", port)

			var a answers
			var wg sync.WaitGroup
			client := &http.Client{Timeout: time.Minute}
			send := func(id string) {
				wg.Go(func() {
					resp, err := client.Post(url, "application/json", strings.NewReader(`{"id":"`+id+`"}`))
					if err != nil {
						t.Errorf("POST %s: %v", id, err)
						a.set(id, noAnswer)
						return
					}
					resp.Body.Close()
					a.set(id, resp.StatusCode)
				})
			}
			during := 0
			sendFor := func(prefix string, d time.Duration) {
				for i, end := 0, time.Now().Add(d); time.Now().Before(end); i++ {
					send(fmt.Sprintf("%s-%d", prefix, i))
					if prefix == "down" {
						during++
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			const outage = 7 * time.Second
			sendFor("before", 500*time.Millisecond)
			srv.Shutdown()
			sendFor("down", outage)
			natsdtest.RunWith(t, natsd.Options{StoreDir: srv.StoreDir(), Port: srv.Port()})
			sendFor("after", 500*time.Millisecond)
			wg.Wait()

			counts := checkAnswers(t, tg, &a)
			t.Logf("%d requests sent during a %s outage; answers: %v", during, outage, counts)
			if counts[http.StatusOK] == 0 {
				t.Errorf("no request answered 200")
			}
		})
	}
}

// TestAnswersToHalfClosedClients: 100 webhook clients send their request and
// close their side at once, half of them waiting for the answer (a
// half-close) and half going away. The event of every request is stored and
// fires once whatever the client did; none is answered 503 and stored.
func TestAnswersToHalfClosedClients(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.name, func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			tg := newTarget(t, true, 0)
			port := freeport.Port(t)
			start(t, objects(t, port, tg.URL), dev.Options{ViaHTTP: w.viaHTTP})
			addr := fmt.Sprintf("127.0.0.1:%d", port)

			var a answers
			var wg sync.WaitGroup
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for i := range 100 {
				id := fmt.Sprintf("h-%d", i)
				wg.Go(func() {
					status, err := sendAndClose(ctx, addr, id, i%2 == 0)
					if err != nil {
						t.Errorf("%s: %v", id, err)
					}
					a.set(id, status)
				})
			}
			wg.Wait()
			counts := checkAnswers(t, tg, &a)
			t.Logf("answers: %v (0: the client went away)", counts)
			if counts[http.StatusServiceUnavailable] > 0 {
				t.Errorf("%d of 100 requests answered 503 with the store up", counts[http.StatusServiceUnavailable])
			}
		})
	}
}

// sendAndClose posts an order over a raw connection and closes the client's
// side as soon as the body is out: with wait, only the write side (and the
// answer is read and returned), else the whole connection (noAnswer).
func sendAndClose(ctx context.Context, addr, id string, wait bool) (int, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return noAnswer, err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	body := `{"id":"` + id + `"}`
	req := fmt.Sprintf("POST /orders HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body)
	if _, err := conn.Write([]byte(req)); err != nil {
		return noAnswer, err
	}
	if !wait {
		return noAnswer, nil
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		return noAnswer, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return noAnswer, fmt.Errorf("reading the answer: %w", err)
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestWebhookResendWithIdempotencyKeyFiresOnce: a webhook caller that resends
// a request with the same Idempotency-Key (after a 504, or an answer it lost)
// fires once, in both wirings; another key fires again.
func TestWebhookResendWithIdempotencyKeyFiresOnce(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.name, func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			tg := newTarget(t, true, 0)
			port := freeport.Port(t)
			start(t, objects(t, port, tg.URL), dev.Options{ViaHTTP: w.viaHTTP})
			url := fmt.Sprintf("http://127.0.0.1:%d/orders", port)
			send := func(key, id string) {
				header := http.Header{"Content-Type": {"application/json"}, "Idempotency-Key": {key}}
				if got := postEdge(t, url, header, []byte(`{"id":"`+id+`"}`)); got.status != http.StatusOK {
					t.Fatalf("POST with key %s = %d %q, want 200", key, got.status, got.body)
				}
			}
			send("key-1", "first")
			send("key-1", "first")
			send("key-1", "first")
			send("key-2", "second")
			waitFor(t, func() bool { return tg.count() >= 2 })
			time.Sleep(time.Second) // a duplicate would show by now
			if got := tg.delivered(t); got["first"] != 1 || got["second"] != 1 || len(got) != 2 {
				t.Errorf("delivered %v, want first and second once each", got)
			}
		})
	}
}
