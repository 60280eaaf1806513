package pull

import (
	"context"
	"errors"
	"time"

	"github.com/flintevents/flint/sources"
)

// Drained is what a Drain did.
type Drained struct {
	// Count is how many messages were stored and acknowledged.
	Count int64
	// Empty says the origin was found empty; false means the deadline (or
	// the context) ended the drain first.
	Empty bool
}

// Drain reads the origin as Run does until it is empty or the deadline
// passes, then returns what it drained. The origin is empty when, with every
// message settled, nothing arrived for opts.Idle and the consumer's Backlog
// (when it is a Backlogger) is zero. At the deadline, emits in flight are
// cancelled and their messages handed back, as when Run's context ends. This
// is how a source woken from zero replicas works off its backlog and stops.
func Drain(ctx context.Context, dial Dial, emit sources.Emitter, opts Options, deadline time.Time) (Drained, error) {
	if dial == nil || emit == nil {
		return Drained{}, errors.New("pull: dial and emit are required")
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	r := newRunner(emit, opts)
	empty, err := r.loop(dctx, dial, true)
	return Drained{Count: r.acked.Load(), Empty: empty}, err
}
