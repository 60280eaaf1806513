package conn_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn"
)

var errRefused = errors.New("connection refused")

// TestRetry dials a server that refuses the first failures attempts: Retry
// connects when the backoff leaves enough attempts, and otherwise returns
// the refusal after exactly its attempts, having logged every failure that
// it retried once with its wait.
func TestRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		backoff  string // "" is no connectionBackoff
		failures int
		// wantCalls is how often dial is called.
		wantCalls int
		wantErr   bool
		// wantWaits are the logged waits: at least the first, less than twice it with jitter 1.
		wantWait time.Duration
		jitter   bool
	}{
		{name: "connects at once", backoff: `{steps: 3, duration: 1ms}`, failures: 0, wantCalls: 1},
		{name: "connects at the last attempt", backoff: `{steps: 3, duration: 1ms, jitter: 0}`, failures: 2, wantCalls: 3, wantWait: time.Millisecond},
		{name: "gives up after its steps", backoff: `{steps: 3, duration: 1ms, jitter: 0}`, failures: 10, wantCalls: 3, wantErr: true, wantWait: time.Millisecond},
		{name: "steps 0 is 5 attempts", backoff: `{duration: 2ms}`, failures: 10, wantCalls: 5, wantErr: true, wantWait: 2 * time.Millisecond, jitter: true},
		{name: "one step never retries", backoff: `{steps: 1}`, failures: 1, wantCalls: 1, wantErr: true},
		{name: "no connectionBackoff: Argo's 5 attempts a second apart", failures: 1, wantCalls: 2, wantWait: time.Second, jitter: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b *v1alpha1.Backoff
			if tc.backoff != "" {
				b = &v1alpha1.Backoff{}
				if err := yaml.Unmarshal([]byte(tc.backoff), b); err != nil {
					t.Fatal(err)
				}
			}
			core, logs := observer.New(zapcore.DebugLevel)
			calls := 0
			err := conn.Retry(context.Background(), b, "amqp://127.0.0.1:5672", zap.New(core), func(ctx context.Context) error {
				calls++
				if calls <= tc.failures {
					return errRefused
				}
				return nil
			})
			if calls != tc.wantCalls {
				t.Errorf("dialled %d times, want %d", calls, tc.wantCalls)
			}
			if tc.wantErr {
				if !errors.Is(err, errRefused) || !strings.Contains(err.Error(), "amqp://127.0.0.1:5672") {
					t.Errorf("Retry = %v, want the refusal naming the address", err)
				}
			} else if err != nil {
				t.Errorf("Retry = %v, want success", err)
			}
			// Every failure but a last one is logged, once, with its wait.
			retried := min(tc.failures, tc.wantCalls-1)
			entries := logs.FilterMessage("connecting failed, retrying").All()
			if len(entries) != retried {
				t.Fatalf("%d failures logged, want %d: %v", len(entries), retried, entries)
			}
			for i, e := range entries {
				fields := e.ContextMap()
				wait, _ := fields["wait"].(time.Duration)
				most := tc.wantWait
				if tc.jitter {
					most *= 2
				}
				if e.Level != zapcore.WarnLevel || wait < tc.wantWait || wait > most || fields["attempt"] != int64(i+1) || fields["error"] != errRefused.Error() {
					t.Errorf("log %d = %s %v, want WARN attempt %d, a wait of %s to %s and the error", i, e.Level, fields, i+1, tc.wantWait, most)
				}
			}
		})
	}
}

// TestRetryStopsWithContext: a context that ends during a wait ends Retry at
// once, with both the context's error and the last refusal.
func TestRetryStopsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hour := v1alpha1.FromString("1h")
	calls := 0
	dialled := make(chan struct{}, 1)
	go func() {
		<-dialled
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	err := conn.Retry(ctx, &v1alpha1.Backoff{Duration: &hour}, "nats://127.0.0.1:4222", zap.NewNop(), func(context.Context) error {
		calls++
		dialled <- struct{}{}
		return errRefused
	})
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Retry returned %s after the context ended", took)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errRefused) {
		t.Fatalf("Retry = %v, want the cancellation and the refusal", err)
	}
	if calls != 1 {
		t.Fatalf("dialled %d times, want 1", calls)
	}

	// A context already ended dials nothing.
	calls = 0
	err = conn.Retry(ctx, nil, "nats://127.0.0.1:4222", zap.NewNop(), func(context.Context) error {
		calls++
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Fatalf("Retry on an ended context = %v after %d dials, want context.Canceled and none", err, calls)
	}
}
