package pull

import (
	"context"
	"time"
)

// ackContext is the context one worker acks and nacks under. Rather than a
// context and a timer per message, it keeps one context with a deadline and
// makes it again once less than nine tenths of the timeout remain, so every
// Ack or Nack has between nine tenths of Options.AckTimeout and all of it. It
// does not end with the runner's context: stored events are acknowledged
// after the context ended too.
type ackContext struct {
	parent   context.Context // the runner's context, without its cancellation
	timeout  time.Duration
	ctx      context.Context
	cancel   context.CancelFunc
	deadline time.Time
}

func newAckContext(ctx context.Context, timeout time.Duration) *ackContext {
	return &ackContext{parent: context.WithoutCancel(ctx), timeout: timeout}
}

// get returns the context for the next Ack or Nack.
func (a *ackContext) get() context.Context {
	now := time.Now()
	if a.ctx == nil || a.deadline.Sub(now) < a.timeout-a.timeout/10 {
		a.release()
		a.deadline = now.Add(a.timeout)
		a.ctx, a.cancel = context.WithDeadline(a.parent, a.deadline)
	}
	return a.ctx
}

// release frees the context's timer once the worker is done.
func (a *ackContext) release() {
	if a.cancel != nil {
		a.cancel()
	}
}
