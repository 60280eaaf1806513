package dispatcher

import (
	"context"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/flintevents/flint/broker/internal/wire"
)

// Extensions added to an event sent to a dead-letter sink, as Knative names them.
const (
	ExtErrorDest = "knativeerrordest"
	ExtErrorCode = "knativeerrorcode"
	ExtErrorData = "knativeerrordata"
)

// progressEvery caps the interval of InProgress reports during a slow delivery.
const progressEvery = 5 * time.Second

// handle delivers one message and settles it: Ack when delivered, filtered out or
// dead-lettered; NakWithDelay to retry; Term when it can never be delivered.
func (l *consumerLoop) handle(ctx context.Context, msg jetstream.Msg) {
	st := l.state.Load()
	logger := l.d.logger
	meta, err := msg.Metadata()
	if err != nil {
		logger.Error("reading message metadata, terminating message", zap.String("trigger", st.key()), zap.Error(err))
		_ = msg.Term()
		return
	}
	ev, err := wire.Decode(msg.Data())
	if err != nil {
		logger.Error("decoding stored event, terminating message", zap.String("trigger", st.key()),
			zap.Uint64("seq", meta.Sequence.Stream), zap.Error(err))
		_ = msg.Term()
		return
	}
	defer l.keepAlive(msg, st.ackWait)()
	attempt := int(meta.NumDelivered)

	l.mu.Lock()
	failure, retryingDeadLetter := l.deadLetters[meta.Sequence.Stream]
	delete(l.deadLetters, meta.Sequence.Stream)
	l.mu.Unlock()
	if !retryingDeadLetter && attempt > st.Delivery.attempts() {
		// Redelivered past the subscriber attempts without a remembered failure: the
		// dispatcher restarted while dead-lettering.
		failure, retryingDeadLetter = outcome{}, true
	}
	if !retryingDeadLetter && st.Filter != nil && !st.Filter.Match(ev) {
		_ = msg.Ack()
		return
	}
	ttl, ok := wire.TTL(ev)
	if !ok {
		ttl = wire.DefaultTTL
	}
	wire.RemoveTTL(ev)
	if retryingDeadLetter {
		l.deadLetter(ctx, st, msg, meta, ev, failure)
		return
	}

	out := l.d.sender.send(ctx, st.Subscriber, ev, st.timeout, st.Delivery.Structured, true)
	if out.ok() && out.reply != nil {
		if err := l.d.reply(ctx, st, ttl, out.reply); err != nil {
			out = outcome{code: http.StatusBadGateway, err: err}
		}
	}
	if !out.ok() && ctx.Err() != nil {
		// Cut short by a forced shutdown, not failed by the subscriber: hand it back.
		_ = msg.Nak()
		return
	}
	if out.ok() {
		_ = msg.Ack()
		return
	}
	if retryable(out.code) && attempt < st.Delivery.attempts() {
		logger.Debug("delivery failed, retrying", zap.String("trigger", st.key()), zap.String("id", ev.ID()),
			zap.Int("attempt", attempt), zap.Int("code", out.code), zap.Error(out.err))
		_ = msg.NakWithDelay(st.Delivery.retryDelay(attempt, out))
		return
	}
	l.deadLetter(ctx, st, msg, meta, ev, out)
}

// deadLetter sends an undeliverable event to the trigger's dead-letter sink with the
// Knative error extensions, or drops it with a warning when there is none.
func (l *consumerLoop) deadLetter(ctx context.Context, st *triggerState, msg jetstream.Msg, meta *jetstream.MsgMetadata, ev *cloudevents.Event, failure outcome) {
	logger := l.d.logger.With(zap.String("trigger", st.key()), zap.String("id", ev.ID()),
		zap.String("source", ev.Source()), zap.Int("code", failure.code), zap.String("error", failure.describe()))
	dls := st.Delivery.DeadLetterSink
	if dls == nil {
		logger.Warn("dropping event: delivery failed and the trigger has no dead-letter sink")
		_ = msg.Ack()
		return
	}
	dead := ev.Clone()
	dead.SetExtension(ExtErrorDest, st.Subscriber.String())
	if failure.code != 0 {
		dead.SetExtension(ExtErrorCode, int32(failure.code))
	}
	data := failure.body
	if len(data) == 0 && failure.err != nil {
		data = []byte(failure.describe())
	}
	if len(data) > 0 {
		dead.SetExtension(ExtErrorData, base64.StdEncoding.EncodeToString(data[:min(len(data), errorBodyLimit)]))
	}
	out := l.d.sender.send(ctx, dls, &dead, st.timeout, st.Delivery.Structured, false)
	if out.ok() {
		logger.Info("event sent to dead-letter sink")
		_ = msg.Ack()
		return
	}
	attempt := int(meta.NumDelivered)
	if attempt < st.Delivery.maxDeliver() {
		l.mu.Lock()
		l.deadLetters[meta.Sequence.Stream] = failure
		l.mu.Unlock()
		logger.Warn("dead-letter sink failed, retrying", zap.Int("attempt", attempt), zap.NamedError("sinkError", out.err))
		_ = msg.NakWithDelay(st.Delivery.retryDelay(attempt, out))
		return
	}
	logger.Error("dropping event: dead-letter sink failed on the last attempt", zap.NamedError("sinkError", out.err))
	_ = msg.Term()
}

// keepAlive reports progress on msg while a slow delivery runs so JetStream does not
// redeliver it; call the returned func when done.
func (l *consumerLoop) keepAlive(msg jetstream.Msg, ackWait time.Duration) func() {
	k := &progress{msg: msg, every: min(ackWait/3, progressEvery)}
	k.mu.Lock()
	k.timer = time.AfterFunc(k.every, k.report)
	k.mu.Unlock()
	return k.stop
}

// progress re-arms itself to report InProgress until stopped.
type progress struct {
	msg     jetstream.Msg
	every   time.Duration
	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

func (k *progress) report() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped {
		return
	}
	_ = k.msg.InProgress()
	k.timer.Reset(k.every)
}

func (k *progress) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	k.timer.Stop()
}
