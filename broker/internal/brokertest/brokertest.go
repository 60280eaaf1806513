// Package brokertest holds helpers for the broker's tests: polling, a recording
// CloudEvents sink and an event sender. It is imported by test files only.
package brokertest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// Eventually polls f until it returns nil, failing the test with f's last error after timeout.
func Eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	wait := 5 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s: %v", timeout, err)
		}
		time.Sleep(wait)
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// Request is one request a Sink received.
type Request struct {
	Path   string
	Event  cloudevents.Event
	Header http.Header
}

// Responder answers the n-th request (1-based) a sink received.
type Responder func(w http.ResponseWriter, n int, req *Request)

// Sink is an HTTP server that decodes and records the CloudEvents posted to it.
type Sink struct {
	*httptest.Server
	respond Responder

	mu       sync.Mutex
	requests []Request
	inFlight int
	maxIn    int
}

// NewSink starts a sink answering with respond (nil: 200, empty body); it closes with the test.
func NewSink(t testing.TB, respond Responder) *Sink {
	t.Helper()
	s := &Sink{respond: respond}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Sink) serve(w http.ResponseWriter, r *http.Request) {
	ev, err := binding.ToEvent(r.Context(), cehttp.NewMessageFromHttpRequest(r))
	if err != nil {
		http.Error(w, "not a CloudEvent: "+err.Error(), http.StatusBadRequest)
		return
	}
	req := Request{Path: r.URL.Path, Event: *ev, Header: r.Header.Clone()}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	n := len(s.requests)
	s.inFlight++
	s.maxIn = max(s.maxIn, s.inFlight)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	if s.respond != nil {
		s.respond(w, n, &req)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Requests returns a copy of what the sink received so far.
func (s *Sink) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count is the number of requests received.
func (s *Sink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// IDs counts received requests per event id.
func (s *Sink) IDs() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.requests))
	for _, r := range s.requests {
		m[r.Event.ID()]++
	}
	return m
}

// MaxConcurrent is the largest number of requests the sink handled at once.
func (s *Sink) MaxConcurrent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxIn
}

// WaitCount polls until the sink received at least n requests.
func (s *Sink) WaitCount(t testing.TB, timeout time.Duration, n int) {
	t.Helper()
	Eventually(t, timeout, func() error {
		if got := s.Count(); got < n {
			return fmt.Errorf("sink received %d requests, want %d", got, n)
		}
		return nil
	})
}

// NewEvent returns a valid event with JSON data.
func NewEvent(id, typ string) cloudevents.Event {
	ev := cloudevents.NewEvent()
	ev.SetID(id)
	ev.SetSource("/flint/test")
	ev.SetType(typ)
	_ = ev.SetData(cloudevents.ApplicationJSON, map[string]string{"id": id})
	return ev
}

// Post sends ev to url in binary mode and returns the status code.
func Post(ctx context.Context, client *http.Client, url string, ev cloudevents.Event) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return 0, err
	}
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(&ev), req); err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	return resp.StatusCode, nil
}

// MustPost sends ev and fails the test unless the answer is want.
func MustPost(t testing.TB, url string, ev cloudevents.Event, want int) {
	t.Helper()
	code, err := Post(context.Background(), http.DefaultClient, url, ev)
	if err != nil {
		t.Fatalf("posting %s: %v", ev.ID(), err)
	}
	if code != want {
		t.Fatalf("posting %s: status %d, want %d", ev.ID(), code, want)
	}
}
