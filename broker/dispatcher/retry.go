package dispatcher

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/flintevents/flint/broker/internal/bus"
)

// A trigger's retry lane holds the events it failed to deliver while their backoff
// runs: each is stored again on the trigger's retry subject with the attempt it is due
// for and when, and its message on the broker subject is acknowledged. The lane has
// its own consumer, slots (Config.RetryPending) and workers (Config.RetryConcurrency),
// so events that keep failing never take the delivery slots of fresh events, however
// many there are.

// toRetryLane moves msg's event to the trigger's retry lane, due at r.At, then
// acknowledges msg: while it waits for its backoff the event holds none of the
// trigger's delivery slots, so fresh events never wait behind failing ones. It returns
// false, leaving msg unsettled, when the trigger has no lane or the lane could not
// store the event; the caller then keeps it where it is (NakWithDelay).
func (l *consumerLoop) toRetryLane(ctx context.Context, st *triggerState, msg jetstream.Msg, r bus.Retry) bool {
	if !l.lane && l.retries.Load() == nil {
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, l.d.cfg.PublishTimeout)
	_, err := l.d.js.PublishMsg(pctx, bus.RetryMsg(st.Namespace, st.Broker, st.Name, r, msg.Data()))
	cancel()
	if err != nil {
		l.d.logger.Warn("storing an event to retry failed, keeping it in place", zap.String("trigger", st.key()),
			zap.Uint64("seq", r.Origin), zap.Error(err))
		return false
	}
	_ = msg.Ack()
	return true
}

// dueIn is how long a retry lane message waits before it is due; 0 when it is due, or
// when its headers cannot be read (handle dead-letters it then).
func dueIn(msg jetstream.Msg) time.Duration {
	r, err := bus.ReadRetry(msg.Headers())
	if err != nil {
		return 0
	}
	return max(time.Until(r.At), 0)
}
