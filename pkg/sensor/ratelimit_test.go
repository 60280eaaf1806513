package sensor

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

func TestRateLimitUnits(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	type try struct {
		after time.Duration // since t0
		allow bool
	}
	tests := []struct {
		name  string
		limit *v1alpha1.RateLimit
		tries []try // in order; each allowed one takes a slot
	}{
		{"no rateLimit", nil, nil},
		{"requestsPerUnit 0 means no limit", &v1alpha1.RateLimit{Unit: v1alpha1.Minute}, nil},
		{"unit defaults to Second", &v1alpha1.RateLimit{RequestsPerUnit: 4},
			[]try{{0, true}, {0, false}, {200 * time.Millisecond, false}, {250 * time.Millisecond, true}, {400 * time.Millisecond, false}, {500 * time.Millisecond, true}}},
		{"2 per Second", &v1alpha1.RateLimit{Unit: v1alpha1.Second, RequestsPerUnit: 2},
			[]try{{0, true}, {100 * time.Millisecond, false}, {500 * time.Millisecond, true}, {time.Second, true}, {time.Second, false}}},
		{"3 per Minute", &v1alpha1.RateLimit{Unit: v1alpha1.Minute, RequestsPerUnit: 3},
			[]try{{0, true}, {time.Second, false}, {19 * time.Second, false}, {20 * time.Second, true}, {39 * time.Second, false}, {40 * time.Second, true}}},
		{"1 per Hour", &v1alpha1.RateLimit{Unit: v1alpha1.Hour, RequestsPerUnit: 1},
			[]try{{0, true}, {time.Minute, false}, {59 * time.Minute, false}, {time.Hour, true}, {time.Hour + time.Second, false}}},
		{"no burst after a quiet period", &v1alpha1.RateLimit{Unit: v1alpha1.Minute, RequestsPerUnit: 60},
			[]try{{0, true}, {10 * time.Minute, true}, {10 * time.Minute, false}, {10*time.Minute + time.Second, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := newLimiter(tt.limit)
			if tt.tries == nil {
				if l != nil {
					t.Fatalf("newLimiter(%+v) = a limit, want none", tt.limit)
				}
				return
			}
			for i, tr := range tt.tries {
				if got := l.AllowN(t0.Add(tr.after), 1); got != tr.allow {
					t.Errorf("try %d at +%s: allowed = %v, want %v", i, tr.after, got, tr.allow)
				}
			}
		})
	}
}

func TestRateLimitDelaysFirings(t *testing.T) {
	t.Parallel()
	tg, url := serve(t, http.StatusOK)
	s, err := New(&v1alpha1.Sensor{Spec: v1alpha1.SensorSpec{
		Dependencies: []v1alpha1.EventDependency{{Name: "a", EventSourceName: "webhook", EventName: "a"}},
		Triggers: []v1alpha1.Trigger{{
			Template:  &v1alpha1.TriggerTemplate{Name: "limited", HTTP: &v1alpha1.HTTPTrigger{URL: url}},
			RateLimit: &v1alpha1.RateLimit{Unit: v1alpha1.Second, RequestsPerUnit: 10},
		}},
	}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	for i := range 4 {
		if err := s.Handle(context.Background(), depEvent(fmt.Sprint(i), "a")); err != nil {
			t.Fatal(err)
		}
	}
	if elapsed := time.Since(start); elapsed < 290*time.Millisecond {
		t.Errorf("4 firings at 10 per Second took %s, want at least 300ms", elapsed)
	}
	if n := len(tg.got()); n != 4 {
		t.Errorf("target got %d requests, want 4", n)
	}
}
