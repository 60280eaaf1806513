package sensor

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// backoff is a compiled `retryStrategy`.
type backoff struct {
	attempts int
	wait     time.Duration
	factor   float64
	jitter   float64
}

// newBackoff reads Argo's retryStrategy: no strategy means one attempt;
// steps 0 means 5; the duration defaults to 1s, factor and jitter to 1.
// Values that do not parse take their default.
func newBackoff(b *v1alpha1.Backoff) backoff {
	if b == nil {
		return backoff{attempts: 1, factor: 1}
	}
	out := backoff{attempts: int(b.Steps), factor: 1, jitter: 1}
	if out.attempts <= 0 {
		out.attempts = 5
	}
	if b.Duration != nil {
		if d, err := b.Duration.Duration(); err == nil {
			out.wait = d
		}
	}
	if out.wait <= 0 {
		out.wait = time.Second
	}
	if b.Factor != nil {
		if f, err := b.Factor.Float64(); err == nil && f > 0 {
			out.factor = f
		}
	}
	if b.Jitter != nil {
		if j, err := b.Jitter.Float64(); err == nil && j >= 0 {
			out.jitter = j
		}
	}
	return out
}

// do calls attempt until it succeeds, the attempts are used up or ctx ends,
// waiting between attempts; it returns the last attempt's result.
func (b backoff) do(ctx context.Context, attempt func() error) error {
	wait := b.wait
	for n := 1; ; n++ {
		err := attempt()
		if err == nil || n >= b.attempts || ctx.Err() != nil {
			return err
		}
		d := wait
		if b.jitter > 0 {
			d += time.Duration(rand.Float64() * b.jitter * float64(wait))
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (retry cancelled: %w)", err, ctx.Err())
		case <-t.C:
		}
		wait = time.Duration(float64(wait) * b.factor)
	}
}
