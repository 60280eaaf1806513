package filter

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// DefaultTimeout bounds one evaluation of a filter expression.
const DefaultTimeout = 500 * time.Millisecond

// ErrTimeout is wrapped by MatchContext's error when the expression outlasts
// its time limit, and ErrBusy when every evaluation slot is held by
// expressions that outlasted theirs.
var (
	ErrTimeout = errors.New("filter expression time limit exceeded")
	ErrBusy    = errors.New("filter expression evaluations all busy")
)

// slots bounds the evaluations of one Filter running at once. An
// evaluation that outlasts its limit keeps its slot until it stops (at the
// next step of a loop, or when a slow builtin returns); the bound keeps such
// evaluations from piling up.
type slots chan struct{}

func newSlots() slots { return make(slots, max(4, 2*runtime.GOMAXPROCS(0))) }

// MatchContext is Match within a time limit (DefaultTimeout when timeout is
// zero or less) and ctx: an expression that loops over large data, or an
// author's runaway `all`/`map`, fails the filter with ErrTimeout instead of
// holding the request.
func (f *Filter) MatchContext(ctx context.Context, data []byte, timeout time.Duration) (bool, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	select {
	case f.slots <- struct{}{}:
	default:
		return false, fmt.Errorf("filter expression %q: %w", f.expression, ErrBusy)
	}
	type result struct {
		pass bool
		err  error
	}
	done := make(chan result, 1)
	// The evaluation stops at the first step of a loop after its limit or
	// ctx, so that an abandoned one does not run on.
	deadline := time.Now().Add(timeout)
	check := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !time.Now().Before(deadline) {
			return ErrTimeout
		}
		return nil
	}
	go func() {
		defer func() { <-f.slots }()
		pass, err := f.match(data, check)
		done <- result{pass, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.pass, r.err
	case <-timer.C:
		return false, fmt.Errorf("filter expression %q: %w (%s)", f.expression, ErrTimeout, timeout)
	case <-ctx.Done():
		return false, fmt.Errorf("filter expression %q: %w", f.expression, ctx.Err())
	}
}
