package log

import (
	"context"
	"encoding/base64"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/triggers"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeClock is a settable clock for the throttling tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTrigger(t *testing.T, interval uint64) (*Trigger, *observer.ObservedLogs, *fakeClock) {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	clock := &fakeClock{now: t0}
	tr, err := New(&v1alpha1.LogTrigger{IntervalSeconds: interval}, triggers.Deps{Logger: zap.New(core), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return tr.(*Trigger), logs, clock
}

func firing(events map[string]*event.Event) triggers.Firing {
	return triggers.Firing{
		Sensor:  "webhook-sensor",
		Trigger: "print",
		Events:  events,
	}
}

func ev(id, contentType string, data []byte) *event.Event {
	return &event.Event{
		Context: event.Context{
			ID: id, Source: "webhook", Subject: "example", Type: "webhook",
			SpecVersion: "1.0", DataContentType: contentType, Time: t0,
		},
		Data: data,
	}
}

func TestFireFields(t *testing.T) {
	t.Parallel()
	binary := []byte{0xde, 0xad, 0xbe, 0xef}
	tests := []struct {
		name     string
		events   map[string]*event.Event
		wantDeps []string
		wantData []string
	}{
		{
			name:     "json data as text",
			events:   map[string]*event.Event{"dep": ev("a1", "application/json", []byte(`{"body":{"x":1}}`))},
			wantDeps: []string{"dep"},
			wantData: []string{`{"body":{"x":1}}`},
		},
		{
			name:     "json with charset",
			events:   map[string]*event.Event{"dep": ev("a1", "application/json; charset=utf-8", []byte(`[1]`))},
			wantDeps: []string{"dep"},
			wantData: []string{`[1]`},
		},
		{
			name:     "binary as base64",
			events:   map[string]*event.Event{"dep": ev("a1", "application/octet-stream", binary)},
			wantDeps: []string{"dep"},
			wantData: []string{base64.StdEncoding.EncodeToString(binary)},
		},
		{
			name:     "no content type, not json",
			events:   map[string]*event.Event{"dep": ev("a1", "", []byte("plain"))},
			wantDeps: []string{"dep"},
			wantData: []string{base64.StdEncoding.EncodeToString([]byte("plain"))},
		},
		{
			name: "one line per event, sorted by dependency",
			events: map[string]*event.Event{
				"zeta":  ev("z1", "application/json", []byte(`"z"`)),
				"alpha": ev("a1", "application/json", []byte(`"a"`)),
			},
			wantDeps: []string{"alpha", "zeta"},
			wantData: []string{`"a"`, `"z"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr, logs, _ := newTrigger(t, 0)
			res, err := tr.Fire(context.Background(), nil, firing(tc.events))
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 0 || res.Body != nil {
				t.Fatalf("result = %+v, want zero", res)
			}
			entries := logs.All()
			if len(entries) != len(tc.wantDeps) {
				t.Fatalf("got %d lines, want %d", len(entries), len(tc.wantDeps))
			}
			for i, e := range entries {
				if e.Message != Message || e.Level != zapcore.InfoLevel {
					t.Fatalf("line %d: %s %q", i, e.Level, e.Message)
				}
				f := e.ContextMap()
				want := map[string]any{
					"sensor": "webhook-sensor", "trigger": "print", "triggerType": "log",
					"dependencyName": tc.wantDeps[i], "data": tc.wantData[i],
				}
				for k, v := range want {
					if f[k] != v {
						t.Errorf("line %d: %s = %v, want %v", i, k, f[k], v)
					}
				}
				if _, ok := f["suppressed"]; ok {
					t.Errorf("line %d: unexpected suppressed field", i)
				}
				ctx, ok := f["eventContext"].(map[string]any)
				if !ok {
					t.Fatalf("line %d: eventContext = %#v", i, f["eventContext"])
				}
				src := tc.events[tc.wantDeps[i]].Context
				wantCtx := map[string]any{
					"id": src.ID, "source": "webhook", "subject": "example", "type": "webhook",
					"specversion": "1.0", "datacontenttype": src.DataContentType,
					"time": "2026-01-02T03:04:05Z",
				}
				for k, v := range wantCtx {
					if ctx[k] != v {
						t.Errorf("line %d: eventContext.%s = %v, want %v", i, k, ctx[k], v)
					}
				}
			}
		})
	}
}

func TestFireThrottle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		interval uint64
		// steps: advance the clock by the duration, then fire once.
		steps          []time.Duration
		wantLines      int
		wantSuppressed int // suppressed count on the last line (0 = field absent)
	}{
		{"no interval logs every firing", 0, []time.Duration{0, 0, 0}, 3, 0},
		{"five within interval log once", 10, []time.Duration{0, time.Second, time.Second, time.Second, time.Second}, 1, 0},
		{"next line reports suppressed", 10, []time.Duration{0, time.Second, time.Second, time.Second, time.Second, 6 * time.Second}, 2, 4},
		{"exactly at the interval logs", 10, []time.Duration{0, 10 * time.Second}, 2, 0},
		{"just before the interval is suppressed", 10, []time.Duration{0, 10*time.Second - time.Nanosecond}, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr, logs, clock := newTrigger(t, tc.interval)
			in := firing(map[string]*event.Event{"dep": ev("a1", "application/json", []byte(`{}`))})
			for _, d := range tc.steps {
				clock.Advance(d)
				if _, err := tr.Fire(context.Background(), nil, in); err != nil {
					t.Fatal(err)
				}
			}
			entries := logs.All()
			if len(entries) != tc.wantLines {
				t.Fatalf("got %d lines, want %d", len(entries), tc.wantLines)
			}
			got, ok := entries[len(entries)-1].ContextMap()["suppressed"]
			switch {
			case tc.wantSuppressed == 0 && ok:
				t.Fatalf("suppressed = %v, want absent", got)
			case tc.wantSuppressed != 0 && got != int64(tc.wantSuppressed):
				t.Fatalf("suppressed = %v (%T), want %d", got, got, tc.wantSuppressed)
			}
		})
	}
}

func TestFireConcurrent(t *testing.T) {
	t.Parallel()
	tr, logs, _ := newTrigger(t, 60)
	in := firing(map[string]*event.Event{"dep": ev("a1", "application/json", []byte(`{}`))})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := tr.Fire(context.Background(), nil, in); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := logs.Len(); n != 1 {
		t.Fatalf("got %d lines within one interval, want 1", n)
	}
}
