package sink_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/sink"
)

// broker is an httptest server speaking the ingress contract: binary-mode
// CloudEvents POSTed to it are decoded and kept; statuses answers them in turn
// (the last one repeats).
type broker struct {
	*httptest.Server
	mu       sync.Mutex
	events   []cloudevents.Event
	headers  []http.Header
	attempts atomic.Int32
	statuses []int
}

func newBroker(t *testing.T, statuses ...int) *broker {
	t.Helper()
	b := &broker{statuses: statuses}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(b.attempts.Add(1)) - 1
		status := b.statuses[min(n, len(b.statuses)-1)]
		if r.Method != http.MethodPost {
			http.Error(w, "want POST", http.StatusMethodNotAllowed)
			return
		}
		ev, err := cehttp.NewEventFromHTTPRequest(r)
		if err != nil {
			http.Error(w, "bad event: "+err.Error(), http.StatusBadRequest)
			return
		}
		if status/100 == 2 {
			b.mu.Lock()
			b.events = append(b.events, *ev)
			b.headers = append(b.headers, r.Header.Clone())
			b.mu.Unlock()
		}
		w.WriteHeader(status)
		if status/100 != 2 {
			fmt.Fprintf(w, "status %d", status)
		}
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *broker) stored() ([]cloudevents.Event, []http.Header) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]cloudevents.Event(nil), b.events...), append([]http.Header(nil), b.headers...)
}

func testEvent(t testing.TB) cloudevents.Event {
	t.Helper()
	ev, err := event.New("0123456789abcdef0123456789abcdef", "webhook-es", "example", "webhook",
		time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), []byte(`{"header":{},"body":{"a":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestEmit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		statuses     []int
		wantAttempts int32
		wantStatus   int // 0: success
		// maybeStored: the failure says the event may be stored
		// (sources.ErrNotConfirmed), as an attempt was not answered "not stored".
		maybeStored bool
	}{
		{name: "202 accepted", statuses: []int{202}, wantAttempts: 1},
		{name: "200 ok", statuses: []int{200}, wantAttempts: 1},
		{name: "400 is not retried", statuses: []int{400}, wantAttempts: 1, wantStatus: 400},
		{name: "413 is not retried", statuses: []int{413}, wantAttempts: 1, wantStatus: 413},
		{name: "503 retried then error", statuses: []int{503}, wantAttempts: 4, wantStatus: 503},
		{name: "429 retried then error", statuses: []int{429}, wantAttempts: 4, wantStatus: 429},
		{name: "503 then 202", statuses: []int{503, 500, 202}, wantAttempts: 3},
		{name: "504 retried then not confirmed", statuses: []int{504}, wantAttempts: 4, wantStatus: 504, maybeStored: true},
		{name: "504 then 503 is still not confirmed", statuses: []int{504, 503}, wantAttempts: 4, wantStatus: 503, maybeStored: true},
		{name: "502 may be stored", statuses: []int{502}, wantAttempts: 4, wantStatus: 502, maybeStored: true},
		{name: "504 then 202", statuses: []int{504, 202}, wantAttempts: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBroker(t, tc.statuses...)
			s, err := sink.New(b.URL, sink.WithBackoff(time.Millisecond), sink.WithRetries(3))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Emit(context.Background(), testEvent(t))
			if got := b.attempts.Load(); got != tc.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tc.wantAttempts)
			}
			if tc.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Emit: %v", err)
				}
				evs, _ := b.stored()
				if len(evs) != 1 {
					t.Fatalf("broker stored %d events, want 1", len(evs))
				}
				return
			}
			var se *sink.StatusError
			if !errors.As(err, &se) || se.Code != tc.wantStatus {
				t.Fatalf("Emit = %v, want a StatusError %d", err, tc.wantStatus)
			}
			if want := fmt.Sprintf("status %d", tc.wantStatus); se.Body != want {
				t.Errorf("StatusError.Body = %q, want %q", se.Body, want)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(tc.wantStatus)) {
				t.Errorf("error %q does not name the status", err)
			}
			// A 413 tells the push source to answer 413 too, with the
			// broker's account of its limit.
			if tooLarge := errors.Is(err, sources.ErrEventTooLarge); tooLarge != (tc.wantStatus == http.StatusRequestEntityTooLarge) {
				t.Errorf("Emit = %v: matches sources.ErrEventTooLarge = %v", err, tooLarge)
			}
			if maybe := errors.Is(err, sources.ErrNotConfirmed); maybe != tc.maybeStored {
				t.Errorf("Emit = %v: matches sources.ErrNotConfirmed = %v, want %v", err, maybe, tc.maybeStored)
			}
		})
	}
}

func TestEmitBinaryMode(t *testing.T) {
	t.Parallel()
	b := newBroker(t, 202)
	s, err := sink.New(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	in := testEvent(t)
	if err := s.Emit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	evs, hdrs := b.stored()
	if len(evs) != 1 {
		t.Fatalf("stored %d events", len(evs))
	}
	h := hdrs[0]
	for k, want := range map[string]string{
		"Ce-Id":          "0123456789abcdef0123456789abcdef",
		"Ce-Source":      "webhook-es",
		"Ce-Subject":     "example",
		"Ce-Type":        "webhook",
		"Ce-Specversion": "1.0",
		"Ce-Time":        "2026-07-01T12:00:00Z",
		"Content-Type":   "application/json",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if want := in.Clone(); evs[0].String() != want.String() {
		t.Errorf("broker got:\n%s\nwant:\n%s", evs[0], want)
	}
}

func TestEmitConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := sink.New("http://"+addr+"/default/default", sink.WithBackoff(time.Millisecond), sink.WithRetries(2))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Emit(context.Background(), testEvent(t))
	var se *sink.StatusError
	if err == nil || errors.As(err, &se) {
		t.Fatalf("Emit = %v, want a connection error", err)
	}
	if !strings.Contains(err.Error(), "attempt 3") || !strings.Contains(err.Error(), "refused") {
		t.Errorf("error %q should say attempt 3 and connection refused", err)
	}
	if errors.Is(err, sources.ErrNotConfirmed) {
		t.Errorf("Emit = %v: a request that never left says the event may be stored", err)
	}
}

func TestEmitRespectsContext(t *testing.T) {
	t.Parallel()
	b := newBroker(t, 503)
	s, err := sink.New(b.URL, sink.WithBackoff(time.Hour), sink.WithRetries(5))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Emit(ctx, testEvent(t))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Emit = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Emit took %v after its context ended", d)
	}
	if got := b.attempts.Load(); got != 1 {
		t.Errorf("attempts = %d, want 1", got)
	}
}

func TestNewAndFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{name: "sink only", env: map[string]string{"K_SINK": "http://broker-ingress/ns/default"}},
		{name: "no sink", env: map[string]string{}, wantErr: "K_SINK is not set"},
		{name: "relative sink", env: map[string]string{"K_SINK": "/ns/default"}, wantErr: "absolute http or https URL"},
		{name: "bad CA bundle", env: map[string]string{"K_SINK": "https://b/", "K_CA_CERTS": "nope"}, wantErr: "K_CA_CERTS holds no PEM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := sink.FromGetenv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("FromGetenv = %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.URL() != tc.env["K_SINK"] {
				t.Errorf("URL = %q", s.URL())
			}
		})
	}
}

func BenchmarkEmit(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	s, err := sink.New(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	ev := testEvent(b)
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Emit(context.Background(), ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := s.Emit(context.Background(), ev); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
