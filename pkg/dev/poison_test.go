package dev_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/flintevents/flint/broker/deadletter"
	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/freeport"
)

// postBody sends one webhook request and fails unless it is answered 200.
func postBody(t *testing.T, client *http.Client, port int, body string) {
	t.Helper()
	resp, err := client.Post(fmt.Sprintf("http://127.0.0.1:%d/orders", port), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s = %d, want 200", body, resp.StatusCode)
	}
}

// Events that lack the field a trigger parameter needs can never fire it: each is
// dead-lettered at once with the reason, and good events sent after them are
// delivered at once, however many such events came first.
func TestPoisonEventsDoNotStallTheSensor(t *testing.T) {
	const poison, good = 500, 100
	for _, w := range wirings {
		t.Run(w.name, func(t *testing.T) {
			tg := newTarget(t, true, 0)
			port := freeport.Port(t)
			r := start(t, objects(t, port, tg.URL), dev.Options{ViaHTTP: w.viaHTTP, NATSPort: -1})
			client := &http.Client{Timeout: 10 * time.Second}

			for i := range poison {
				postBody(t, client, port, fmt.Sprintf(`{"order":%d}`, i)) // no "id": payload body.id cannot resolve
			}
			sent := time.Now()
			for i := range good {
				postBody(t, client, port, fmt.Sprintf(`{"id":"good-%d"}`, i))
			}
			for tg.count() < good {
				if time.Since(sent) > 10*time.Second {
					t.Fatalf("%d of %d good events delivered 10s after they were sent, behind %d poison events", tg.count(), good, poison)
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("%d good events delivered %v after they were sent, behind %d poison events", good, time.Since(sent).Round(time.Millisecond), poison)

			nc, err := nats.Connect(r.endpoints.NATS)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			var letters []deadletter.Letter
			deadline := time.Now().Add(10 * time.Second)
			for {
				if letters, err = deadletter.List(context.Background(), js, deadletter.Filter{}); err != nil {
					t.Fatal(err)
				}
				if len(letters) >= poison || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if len(letters) != poison {
				t.Fatalf("%d dead letters, want %d (every poison event, none of the good ones)", len(letters), poison)
			}
			for _, l := range letters {
				if l.Code != http.StatusUnprocessableEntity || l.Attempts != 1 ||
					!strings.Contains(l.Error, "http.payload[0]") || !strings.Contains(l.Error, "body.id") ||
					!strings.Contains(l.Error, "path does not exist") {
					t.Fatalf("dead letter code %d after %d attempts, error %q: want 422 after 1 attempt, naming http.payload[0] and the missing body.id",
						l.Code, l.Attempts, l.Error)
				}
			}
		})
	}
}
