package controller

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestLoop checks how the work queue runs a reconcile: a failure is retried until it
// succeeds, a requeue runs the key again without counting as a failure, and run
// returns once its context ends.
func TestLoop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		results []error // what the reconcile returns, call by call; nil after the last
		want    int     // calls before the key settles
	}{
		{"success", nil, 1},
		{"failures retried", []error{errors.New("a"), errors.New("b")}, 3},
		{"requeue", []error{requeueAfter(10 * time.Millisecond), requeueAfter(10 * time.Millisecond)}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			calls := 0
			settled := make(chan struct{})
			l := newLoop("Test", func(_ context.Context, key string) error {
				mu.Lock()
				defer mu.Unlock()
				if key != "ns/name" {
					t.Errorf("key = %q", key)
				}
				calls++
				if calls > len(tc.results) {
					if calls == len(tc.results)+1 {
						close(settled)
					}
					return nil
				}
				return tc.results[calls-1]
			})
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			go func() {
				defer close(done)
				l.run(ctx, workers)
			}()
			l.queue.Add("ns/name")
			select {
			case <-settled:
			case <-time.After(30 * time.Second):
				t.Fatal("the key never settled")
			}
			if n := l.queue.NumRequeues("ns/name"); n != 0 {
				t.Errorf("failures remembered after success: %d", n)
			}
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("run did not return after its context ended")
			}
			mu.Lock()
			defer mu.Unlock()
			if calls != tc.want {
				t.Errorf("reconciled %d times, want %d", calls, tc.want)
			}
		})
	}
}
