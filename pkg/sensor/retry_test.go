package sensor

import (
	"context"
	"errors"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// TestRetryAttempts fires a trigger that fails the first failures times under
// each retryStrategy: how often it is fired, whether the firing fails, and the
// waits between attempts with the jitter's random fraction at 0.5.
func TestRetryAttempts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		strategy  string // "" is none
		failures  int
		wantCalls int
		wantErr   bool
		wantWaits []time.Duration
	}{
		{name: "none: one attempt", failures: 1, wantCalls: 1, wantErr: true},
		{name: "steps 0: Argo's 5 attempts, 1 s and jitter 1", strategy: `{}`, failures: 9, wantCalls: 5, wantErr: true,
			wantWaits: []time.Duration{1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond}},
		{name: "duration only", strategy: `{duration: 30s}`, failures: 2, wantCalls: 3,
			wantWaits: []time.Duration{45 * time.Second, 45 * time.Second}},
		{name: "factor 2, no jitter", strategy: `{steps: 4, duration: 1s, factor: 2, jitter: 0}`, failures: 9, wantCalls: 4, wantErr: true,
			wantWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{name: "steps 1", strategy: `{steps: 1, duration: 1s}`, failures: 1, wantCalls: 1, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rs *v1alpha1.Backoff
			if tc.strategy != "" {
				rs = &v1alpha1.Backoff{}
				if err := yaml.Unmarshal([]byte(tc.strategy), rs); err != nil {
					t.Fatal(err)
				}
			}
			b := newBackoff(rs)
			b.random = func() float64 { return 0.5 }
			var waits []time.Duration
			b.sleep = func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			}
			calls := 0
			refused := errors.New("refused")
			err := b.do(context.Background(), func() error {
				calls++
				if calls <= tc.failures {
					return refused
				}
				return nil
			})
			if calls != tc.wantCalls {
				t.Errorf("fired %d times, want %d", calls, tc.wantCalls)
			}
			if tc.wantErr != errors.Is(err, refused) {
				t.Errorf("do = %v, want failure %v", err, tc.wantErr)
			}
			if len(waits) != len(tc.wantWaits) {
				t.Fatalf("waits %v, want %v", waits, tc.wantWaits)
			}
			for i := range waits {
				if waits[i] != tc.wantWaits[i] {
					t.Errorf("waits %v, want %v", waits, tc.wantWaits)
					break
				}
			}
		})
	}
}

// TestRetryStopsWithContext: a firing whose context ends while it waits to
// retry returns at once with the attempt's error and the cancellation.
func TestRetryStopsWithContext(t *testing.T) {
	t.Parallel()
	hour := v1alpha1.FromString("1h")
	b := newBackoff(&v1alpha1.Backoff{Duration: &hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	refused := errors.New("refused")
	start := time.Now()
	err := b.do(ctx, func() error {
		time.AfterFunc(20*time.Millisecond, cancel)
		return refused
	})
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("do returned %s after the context ended", took)
	}
	if !errors.Is(err, refused) || !errors.Is(err, context.Canceled) {
		t.Fatalf("do = %v, want the attempt's error and the cancellation", err)
	}
}
