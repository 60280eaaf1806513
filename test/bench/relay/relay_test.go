package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRelayForwardsEachBody posts bodies through both relays and checks each arrives
// at the target once, and that a target failing once still gets it from the durable
// relay, which answered 200 as soon as it stored the body.
func TestRelayForwardsEachBody(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	for _, durable := range []bool{false, true} {
		t.Run(map[bool]string{false: "bare", true: "durable"}[durable], func(t *testing.T) {
			got := make(chan string, 10)
			var failed atomic.Bool
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if durable && string(b) == `{"n":2}` && failed.CompareAndSwap(false, true) {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				got <- r.Header.Get("Content-Type") + " " + string(b)
			}))
			defer target.Close()
			client := target.Client()
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { relay(client, target.URL, w, r) })
			if durable {
				s, err := startStore(context.Background(), client, target.URL)
				if err != nil {
					t.Fatal(err)
				}
				defer s.stop()
				handler = s.accept
			}
			front := httptest.NewServer(handler)
			defer front.Close()
			for _, body := range []string{`{"n":1}`, `{"n":2}`} {
				resp, err := http.Post(front.URL, "application/json", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("POST %s: %d, want 200", body, resp.StatusCode)
				}
			}
			seen := map[string]bool{}
			for range 2 {
				select {
				case b := <-got:
					seen[b] = true
				case <-time.After(10 * time.Second):
					t.Fatalf("target got %v, want both bodies", seen)
				}
			}
			for _, want := range []string{`application/json {"n":1}`, `application/json {"n":2}`} {
				if !seen[want] {
					t.Errorf("target got %v, lacks %s", seen, want)
				}
			}
		})
	}
}
