package sensor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// backoff is a compiled `retryStrategy`: its schedule as Argo reads it (see
// v1alpha1.Backoff.Schedule: none means one attempt), the random source of
// its jitter and the wait between attempts.
type backoff struct {
	schedule v1alpha1.Schedule
	// random returns the fraction, in [0, 1), of a wait's jitter.
	random func() float64
	// sleep waits d, or returns ctx's error when ctx ends first.
	sleep func(ctx context.Context, d time.Duration) error
}

// newBackoff compiles the retryStrategy b.
func newBackoff(b *v1alpha1.Backoff) backoff {
	return backoff{schedule: b.Schedule(), random: rand.Float64, sleep: sleep}
}

// do calls attempt until it succeeds, the attempts are used up or ctx ends,
// waiting between attempts; it returns the last attempt's result.
func (b backoff) do(ctx context.Context, attempt func() error) error {
	for n := 1; ; n++ {
		err := attempt()
		if err == nil || n >= b.schedule.Attempts || ctx.Err() != nil {
			return err
		}
		if serr := b.sleep(ctx, b.schedule.Wait(n, b.random())); serr != nil {
			return fmt.Errorf("%w (retry cancelled: %w)", err, serr)
		}
	}
}

// sleep waits d, or returns ctx's error when ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
