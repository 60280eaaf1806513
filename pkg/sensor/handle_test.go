package sensor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
)

// request is what a target saw of one request.
type request struct {
	method, path string
	header       http.Header
	body         string
}

// target is an HTTP trigger target that records requests and answers status.
type target struct {
	mu     sync.Mutex
	status int
	reqs   []request
}

func (tg *target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.reqs = append(tg.reqs, request{r.Method, r.URL.Path, r.Header.Clone(), string(b)})
	w.WriteHeader(tg.status)
}

func (tg *target) got() []request {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return append([]request(nil), tg.reqs...)
}

// serve starts a target answering status.
func serve(t testing.TB, status int) (*target, string) {
	t.Helper()
	tg := &target{status: status}
	srv := httptest.NewServer(tg)
	t.Cleanup(srv.Close)
	return tg, srv.URL
}

// loadSensor reads testdata/<name>.yaml with TARGET replaced by url.
func loadSensor(t testing.TB, name, url string) *v1alpha1.Sensor {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s v1alpha1.Sensor
	if err := yaml.UnmarshalStrict([]byte(strings.ReplaceAll(string(raw), "TARGET", url)), &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// webhookEvent is a webhook event with the given header and body JSON.
func webhookEvent(id, header, body string) *event.Event {
	return &event.Event{
		Context: event.Context{ID: id, Source: "webhook", Subject: "example", Type: "webhook", SpecVersion: "1.0",
			DataContentType: "application/json", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		Data: []byte(`{"header":` + header + `,"body":` + body + `}`),
	}
}

func jsonEqual(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body = %s, want %s", got, want)
	}
}

func TestHandleResolvesTheTrigger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		wantPath string
		wantBody string
	}{
		{
			name:     "parameters, dynamic headers and payload",
			body:     `{"kind":"order","name":"flint","count":3,"path":"orders"}`,
			wantPath: "/api/orders",
			wantBody: `{"name":"flint","count":3,"countText":"3","meta":{"id":"e1"}}`,
		},
		{
			name:     "trigger parameters rewrite the payload list",
			body:     `{"kind":"order","name":"flint","count":3,"path":"o","field":"who"}`,
			wantPath: "/api/o",
			wantBody: `{"who":"flint","count":3,"countText":"3","meta":{"id":"e1"}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg, url := serve(t, http.StatusOK)
			s := mustNew(t, loadSensor(t, "resolve", url))
			if err := s.Handle(context.Background(), webhookEvent("e1", `{"X-Req":["r-42"]}`, tc.body)); err != nil {
				t.Fatalf("Handle = %v", err)
			}
			reqs := tg.got()
			if len(reqs) != 1 {
				t.Fatalf("target got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.method != http.MethodPatch || r.path != tc.wantPath {
				t.Errorf("request = %s %s, want PATCH %s", r.method, r.path, tc.wantPath)
			}
			for k, v := range map[string]string{"X-Static": "yes", "X-Request-Id": "r-42", "X-Event.Id": "e1",
				"Idempotency-Key": "resolve/call/dep:e1", "Content-Type": "application/json"} {
				if got := r.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			jsonEqual(t, r.body, tc.wantBody)
		})
	}
}

func TestHandleFilteredOutOrForeign(t *testing.T) {
	t.Parallel()
	tg, url := serve(t, http.StatusOK)
	s := mustNew(t, loadSensor(t, "resolve", url))
	ctx := context.Background()
	foreign := webhookEvent("e2", `{}`, `{"kind":"order"}`)
	foreign.Context.Subject = "other"
	for _, ev := range []*event.Event{webhookEvent("e1", `{}`, `{"kind":"invoice"}`), foreign, nil} {
		if err := s.Handle(ctx, ev); err != nil {
			t.Fatalf("Handle = %v, want nil for an event that fires nothing", err)
		}
	}
	if n := len(tg.got()); n != 0 {
		t.Fatalf("target got %d requests, want none", n)
	}
}

func TestHandleResolutionFailure(t *testing.T) {
	t.Parallel()
	tg, url := serve(t, http.StatusOK)
	s := mustNew(t, loadSensor(t, "resolve", url))
	// body.name is missing: the payload cannot be built.
	err := s.Handle(context.Background(), webhookEvent("e1", `{"X-Req":["r"]}`, `{"kind":"order","count":1,"path":"x"}`))
	if !errors.Is(err, ErrTriggerFailed) || !strings.Contains(err.Error(), "http.payload[0]: unable to resolve") {
		t.Fatalf("Handle = %v, want ErrTriggerFailed naming http.payload[0]", err)
	}
	if n := len(tg.got()); n != 0 {
		t.Fatalf("target got %d requests, want none", n)
	}
}

// failingStore is a StateStore whose every call fails.
type failingStore struct{}

var errStore = errors.New("store unavailable")

func (failingStore) UpdatePending(context.Context, string, func(Pending) Pending) error {
	return errStore
}
func (failingStore) Fired(context.Context, string) (bool, error)            { return false, errStore }
func (failingStore) MarkFired(context.Context, string, time.Duration) error { return errStore }

func TestHandleState(t *testing.T) {
	t.Parallel()
	spec := func(url string) *v1alpha1.Sensor {
		dep := func(name string) v1alpha1.EventDependency {
			return v1alpha1.EventDependency{Name: name, EventSourceName: "webhook", EventName: name}
		}
		return &v1alpha1.Sensor{Spec: v1alpha1.SensorSpec{
			Dependencies: []v1alpha1.EventDependency{dep("a"), dep("b")},
			Triggers: []v1alpha1.Trigger{{Template: &v1alpha1.TriggerTemplate{Name: "both",
				HTTP: &v1alpha1.HTTPTrigger{URL: url}}, Policy: &v1alpha1.TriggerPolicy{Status: &v1alpha1.StatusPolicy{Allow: []int32{200}}}}},
		}}
	}
	ev := func(id, name string) *event.Event {
		e := webhookEvent(id, `{}`, `{}`)
		e.Context.Subject = name
		return e
	}
	ctx := context.Background()

	t.Run("events wait in the store and come back after a failure", func(t *testing.T) {
		t.Parallel()
		tg, url := serve(t, http.StatusInternalServerError)
		store := NewMemoryStore(0)
		s, err := New(spec(url), Options{Store: store})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Handle(ctx, ev("1", "a")); err != nil {
			t.Fatal(err)
		}
		if n := len(store.pending["both"].Events); n != 1 {
			t.Fatalf("pending = %d events, want dep a waiting", n)
		}
		if err := s.Handle(ctx, ev("2", "b")); !errors.Is(err, ErrTriggerFailed) {
			t.Fatalf("Handle with a failing target = %v, want ErrTriggerFailed", err)
		}
		if n := len(store.pending["both"].Events); n != 2 {
			t.Fatalf("pending after a failure = %d events, want both back", n)
		}
		tg.mu.Lock()
		tg.status = http.StatusOK
		tg.mu.Unlock()
		if err := s.Handle(ctx, ev("2", "b")); err != nil {
			t.Fatalf("redelivery: %v", err)
		}
		if n := len(store.pending["both"].Events); n != 0 {
			t.Fatalf("pending after firing = %d events, want none", n)
		}
		if ok, _ := store.Fired(ctx, "/both/a:1,b:2"); !ok {
			t.Error("the firing's idempotency key was not recorded")
		}
		if n := len(tg.got()); n != 2 {
			t.Fatalf("target got %d requests, want 2", n)
		}
	})
	t.Run("a store failure is a trigger failure", func(t *testing.T) {
		t.Parallel()
		tg, url := serve(t, http.StatusOK)
		s, err := New(spec(url), Options{Store: failingStore{}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Handle(ctx, ev("1", "a")); !errors.Is(err, ErrTriggerFailed) || !errors.Is(err, errStore) {
			t.Fatalf("Handle = %v, want ErrTriggerFailed wrapping the store's error", err)
		}
		if n := len(tg.got()); n != 0 {
			t.Fatalf("target got %d requests, want none", n)
		}
	})
}

func TestMemoryStoreForgetsTheOldestKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := NewMemoryStore(2)
	for _, k := range []string{"a", "b", "a", "c"} {
		if err := m.MarkFired(ctx, k, 0); err != nil {
			t.Fatal(err)
		}
	}
	for k, want := range map[string]bool{"a": false, "b": true, "c": true} {
		if got, _ := m.Fired(ctx, k); got != want {
			t.Errorf("Fired(%s) = %v, want %v", k, got, want)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := m.MarkFired(cancelled, "d", 0); !errors.Is(err, context.Canceled) {
		t.Errorf("MarkFired with a cancelled context = %v", err)
	}
}

// BenchmarkHandle measures one event through a data filter, parameters and
// payload and one http trigger to a local target.
func BenchmarkHandle(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			_, url := serve(b, http.StatusOK)
			s := mustNew(b, loadSensor(b, "resolve", url))
			pad := strings.Repeat("x", size)
			body := `{"kind":"order","name":"flint","count":3,"path":"orders","pad":"` + pad + `"}`
			ev := webhookEvent("e", `{"X-Req":["r"]}`, body)
			b.SetBytes(int64(len(ev.Data)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				e := *ev
				e.Context.ID = fmt.Sprint(i)
				if err := s.Handle(context.Background(), &e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestHandleOrConditionsRedelivered checks that the firings of one event
// under `||`, one per satisfied dependency, each keep their own idempotency
// key: a redelivery fires neither again.
func TestHandleOrConditionsRedelivered(t *testing.T) {
	t.Parallel()
	tg, url := serve(t, http.StatusOK)
	s := mustNew(t, loadSensor(t, "parity-or-conditions", url))
	for range 2 {
		if err := s.Handle(context.Background(), webhookEvent("e1", `{}`, `{"kind":"order"}`)); err != nil {
			t.Fatalf("Handle = %v", err)
		}
	}
	if got := len(tg.got()); got != 2 {
		t.Errorf("trigger fired %d times for an event delivered twice that satisfies a and b of `a || b`, want 2", got)
	}
}

// TestHandleInProcessDelivery checks how an in-process delivery, acknowledged as
// soon as Handle returns, uses the idempotency keys: a round that succeeded records
// none, a round that failed records those of its firings that succeeded so the
// redelivery fires only the failed trigger, and a first delivery looks none up.
func TestHandleInProcessDelivery(t *testing.T) {
	t.Parallel()
	delivery := func(attempt int) context.Context {
		return WithInProcessDelivery(context.Background(), attempt)
	}
	start := func(t *testing.T, okURL, flakyURL string, store *MemoryStore) *Sensor {
		t.Helper()
		s, err := New(twoTriggers(okURL, flakyURL), Options{Store: store})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	ev := webhookEvent("e1", `{}`, `{}`)

	t.Run("a round that succeeded records no key", func(t *testing.T) {
		t.Parallel()
		ok, okURL := serve(t, http.StatusOK)
		flaky, flakyURL := serve(t, http.StatusOK)
		store := NewMemoryStore(0)
		s := start(t, okURL, flakyURL, store)
		if err := s.Handle(delivery(1), ev); err != nil {
			t.Fatal(err)
		}
		if n := len(store.fired); n != 0 {
			t.Fatalf("store holds %d idempotency keys after a round that succeeded, want 0", n)
		}
		if len(ok.got()) != 1 || len(flaky.got()) != 1 {
			t.Fatalf("targets got %d and %d requests, want 1 each", len(ok.got()), len(flaky.got()))
		}
	})
	t.Run("a failed round's redelivery fires only the failed trigger", func(t *testing.T) {
		t.Parallel()
		ok, okURL := serve(t, http.StatusOK)
		flaky, flakyURL := serve(t, http.StatusInternalServerError)
		store := NewMemoryStore(0)
		s := start(t, okURL, flakyURL, store)
		if err := s.Handle(delivery(1), ev); !errors.Is(err, ErrTriggerFailed) {
			t.Fatalf("Handle with a failing trigger = %v, want ErrTriggerFailed", err)
		}
		flaky.setStatus(http.StatusOK)
		if err := s.Handle(delivery(2), ev); err != nil {
			t.Fatalf("redelivery: %v", err)
		}
		if len(ok.got()) != 1 || len(flaky.got()) != 2 {
			t.Fatalf("ok got %d requests (want 1), flaky %d (want 2)", len(ok.got()), len(flaky.got()))
		}
	})
	t.Run("a first delivery looks no key up", func(t *testing.T) {
		t.Parallel()
		ok, okURL := serve(t, http.StatusOK)
		_, flakyURL := serve(t, http.StatusOK)
		store := NewMemoryStore(0)
		if err := store.MarkFired(context.Background(), "/ok/a:e1", 0); err != nil {
			t.Fatal(err)
		}
		s := start(t, okURL, flakyURL, store)
		if err := s.Handle(delivery(1), ev); err != nil {
			t.Fatal(err)
		}
		if err := s.Handle(delivery(2), ev); err != nil {
			t.Fatal(err)
		}
		if n := len(ok.got()); n != 1 {
			t.Fatalf("ok got %d requests, want 1: the first delivery fires, the redelivery finds the key", n)
		}
	})
}

// TestHandleOverHTTPKeepsKeysBriefly checks how long the keys of a round are
// kept when the event came over HTTP: SettledTTL for a round that succeeded,
// the store's default (0) for the successes of a round that failed.
func TestHandleOverHTTPKeepsKeysBriefly(t *testing.T) {
	t.Parallel()
	_, okURL := serve(t, http.StatusOK)
	_, failURL := serve(t, http.StatusInternalServerError)
	for _, tc := range []struct {
		name   string
		second string
		want   time.Duration
	}{
		{"a round that succeeded", okURL, SettledTTL},
		{"a round that failed", failURL, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := &ttlStore{MemoryStore: NewMemoryStore(0)}
			s, err := New(twoTriggers(okURL, tc.second), Options{Store: store})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_ = s.Handle(context.Background(), webhookEvent("e1", `{}`, `{}`))
			if got := store.ttls["/ok/a:e1"]; len(store.ttls) == 0 || got != tc.want {
				t.Fatalf("the ok trigger's key was recorded for %v (recorded: %v), want %v", got, store.ttls, tc.want)
			}
		})
	}
}

// ttlStore is a MemoryStore that remembers the TTL each key was recorded for.
type ttlStore struct {
	*MemoryStore
	mu   sync.Mutex
	ttls map[string]time.Duration
}

func (s *ttlStore) MarkFired(ctx context.Context, key string, ttl time.Duration) error {
	s.mu.Lock()
	if s.ttls == nil {
		s.ttls = map[string]time.Duration{}
	}
	s.ttls[key] = ttl
	s.mu.Unlock()
	return s.MemoryStore.MarkFired(ctx, key, ttl)
}

// twoTriggers is a sensor of one webhook dependency with two HTTP triggers,
// "ok" and "flaky", that succeed only on a 200.
func twoTriggers(okURL, flakyURL string) *v1alpha1.Sensor {
	allow := &v1alpha1.TriggerPolicy{Status: &v1alpha1.StatusPolicy{Allow: []int32{200}}}
	return &v1alpha1.Sensor{Spec: v1alpha1.SensorSpec{
		Dependencies: []v1alpha1.EventDependency{{Name: "a", EventSourceName: "webhook", EventName: "example"}},
		Triggers: []v1alpha1.Trigger{
			{Template: &v1alpha1.TriggerTemplate{Name: "ok", HTTP: &v1alpha1.HTTPTrigger{URL: okURL}}, Policy: allow},
			{Template: &v1alpha1.TriggerTemplate{Name: "flaky", HTTP: &v1alpha1.HTTPTrigger{URL: flakyURL}}, Policy: allow},
		},
	}}
}
