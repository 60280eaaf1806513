package conn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// Retry calls dial until it succeeds, as Argo Events' sources connect: the
// attempts and the waits between them are b's schedule, and a nil b (no
// `connectionBackoff`) is Argo's DefaultBackoff (v1alpha1.DefaultSchedule:
// 5 attempts, 1 s to 2 s apart). Each failed attempt that is followed by
// another is logged once at WARN, with the wait; the last one is returned,
// wrapped and naming what is connected to. Retry stops as soon as ctx ends,
// waiting or not, and then returns ctx's error along with the last attempt's.
func Retry(ctx context.Context, b *v1alpha1.Backoff, what string, logger *zap.Logger, dial func(context.Context) error) error {
	s := v1alpha1.DefaultSchedule()
	if b != nil {
		s = b.Schedule()
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	var last error
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return stopped(what, n-1, err, last)
		}
		last = dial(ctx)
		if last == nil {
			return nil
		}
		if n >= s.Attempts {
			return fmt.Errorf("connecting to %s: %d attempts failed, the last: %w", what, n, last)
		}
		wait := s.Wait(n, rand.Float64())
		logger.Warn("connecting failed, retrying",
			zap.String("to", what), zap.Int("attempt", n), zap.Int("attempts", s.Attempts),
			zap.Duration("wait", wait), zap.Error(last))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return stopped(what, n, ctx.Err(), last)
		case <-t.C:
		}
	}
}

// stopped is the error of a Retry whose ctx ended after n failed attempts.
func stopped(what string, n int, ctxErr, last error) error {
	if last == nil {
		return fmt.Errorf("connecting to %s: %w", what, ctxErr)
	}
	return fmt.Errorf("connecting to %s: %w after %d failed attempts, the last: %w", what, ctxErr, n, last)
}
