package dispatcher

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/broker/internal/wire"
)

// Extensions added to an event sent to a dead-letter sink, as Knative names them.
const (
	ExtErrorDest = "knativeerrordest"
	ExtErrorCode = "knativeerrorcode"
	ExtErrorData = "knativeerrordata"
)

// progressEvery caps the interval of InProgress reports during a slow delivery; the
// reports come at a third of AckWait when that is shorter.
const progressEvery = 5 * time.Second

// quarantineAfter is how many deliveries of an event may end without settling
// it (the process died or hung with it in flight) before the next one
// dead-letters it instead, so that an event that kills the process cannot
// make it crash in a loop.
const quarantineAfter = 2

// errQuarantined is the failure a quarantined event is dead-lettered with.
var errQuarantined = errors.New("quarantined: in flight during 2 runs that ended without settling it (a crash or a hang)")

// handle delivers one message and settles it: Ack when delivered, filtered out, meant
// for another trigger, dead-lettered, or moved to the trigger's retry lane to be
// retried; NakWithDelay to retry when the lane cannot take it; Nak to hand it back on
// a forced stop.
func (l *consumerLoop) handle(ctx context.Context, msg jetstream.Msg, keep *progress) {
	st := l.state.Load()
	logger := l.d.logger
	meta, err := msg.Metadata()
	if err != nil {
		logger.Error("reading message metadata, terminating message", zap.String("trigger", st.key()), zap.Error(err))
		_ = msg.Term()
		return
	}
	// attempt numbers this delivery of the event; origin is its sequence on the broker
	// subject. On a retry lane both come from the message.
	attempt, origin := int(meta.NumDelivered), meta.Sequence.Stream
	var failure outcome
	retryingDeadLetter := false
	if l.lane {
		r, err := bus.ReadRetry(msg.Headers())
		if err != nil {
			logger.Error("reading a retried event", zap.String("trigger", st.key()), zap.Uint64("seq", meta.Sequence.Stream), zap.Error(err))
			l.toStream(ctx, st, msg, meta, attempt, origin, nil, outcome{err: fmt.Errorf("reading a retried event: %w", err)})
			return
		}
		if wait := time.Until(r.At); wait > 0 {
			_ = msg.NakWithDelay(wait)
			return
		}
		attempt, origin = r.Attempt, r.Origin
		if r.DeadLettering {
			failure, retryingDeadLetter = outcome{code: r.Code, err: errors.New(r.Error)}, true
		}
	}
	replayTo := msg.Headers().Get(bus.HeaderReplayTo)
	if replayTo != "" && replayTo != st.key() {
		_ = msg.Ack() // a dead letter replayed to another trigger
		return
	}
	ev, err := wire.Decode(msg.Data())
	if err != nil {
		// Undecodable, it cannot be delivered, but it is kept: as a dead letter.
		logger.Error("decoding stored event", zap.String("trigger", st.key()), zap.Uint64("seq", meta.Sequence.Stream), zap.Error(err))
		l.toStream(ctx, st, msg, meta, attempt, origin, nil, outcome{err: fmt.Errorf("decoding stored event: %w", err)})
		return
	}
	keep.start(msg, min(st.ackWait/3, progressEvery))
	defer keep.stop()

	l.mu.Lock()
	if remembered, ok := l.deadLetters[meta.Sequence.Stream]; ok {
		failure, retryingDeadLetter = remembered, true
	}
	delete(l.deadLetters, meta.Sequence.Stream)
	retriedInPlace := l.inPlace[meta.Sequence.Stream]
	delete(l.inPlace, meta.Sequence.Stream)
	l.mu.Unlock()
	// Whether this consumer's redeliveries count the subscriber's attempts: on a
	// trigger with a retry lane, retries are new messages there, and the trigger's
	// consumer hands an event out again only after a run ended with it in flight.
	countsAttempts := l.lane || l.retries.Load() == nil || retriedInPlace
	if !retryingDeadLetter && !countsAttempts && attempt > quarantineAfter {
		// With a retry lane, a trigger's consumer hands an event out again only when
		// no delivery of it settled: the process died, or hung past the ack wait,
		// with it in flight. Twice in a row is a crash loop in the making.
		logger.Error("event quarantined: it was in flight during two runs that ended without settling it",
			zap.String("trigger", st.key()), zap.String("id", ev.ID()), zap.Uint64("seq", meta.Sequence.Stream),
			zap.Int("delivery", attempt))
		failure, retryingDeadLetter = outcome{err: errQuarantined}, true
	}
	if !retryingDeadLetter && countsAttempts && attempt > st.Delivery.attempts() {
		// Redelivered past the subscriber attempts without a remembered failure: the
		// dispatcher restarted while dead-lettering.
		failure, retryingDeadLetter = outcome{err: errors.New("retries exhausted before a restart of the dispatcher")}, true
	}
	if !retryingDeadLetter && st.Filter != nil && !st.Filter.Match(ev) {
		st.metrics.Filtered()
		_ = msg.Ack()
		return
	}
	ttl, ok := wire.TTL(ev)
	if !ok {
		ttl = wire.DefaultTTL
	}
	wire.RemoveTTL(ev)
	if retryingDeadLetter {
		l.deadLetter(ctx, st, msg, meta, attempt, origin, ev, failure)
		return
	}

	start := time.Now()
	var out outcome
	if st.local != nil {
		seen := attempt
		if replayTo != "" {
			seen++ // a replayed dead letter was delivered before: never a first delivery
		}
		out = receive(ctx, st.local, ev, seen, st.timeout)
	} else {
		out = l.d.sender.send(ctx, st.Subscriber, ev, st.timeout, st.Delivery.Structured, true)
	}
	st.metrics.Dispatched(out.code, start)
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
		st.keeper.add(ctx, len(msg.Data()))
		return
	}
	if retryable(out.code) && attempt < st.Delivery.attempts() {
		logger.Debug("delivery failed, retrying", zap.String("trigger", st.key()), zap.String("id", ev.ID()),
			zap.Int("attempt", attempt), zap.Int("code", out.code), zap.Error(out.err))
		delay := st.Delivery.retryDelay(attempt, out)
		if !l.toRetryLane(ctx, st, msg, bus.Retry{Attempt: attempt + 1, At: time.Now().Add(delay), Origin: origin}) {
			if !l.lane {
				l.mu.Lock()
				l.inPlace[meta.Sequence.Stream] = true
				l.mu.Unlock()
			}
			_ = msg.NakWithDelay(delay)
		}
		return
	}
	l.deadLetter(ctx, st, msg, meta, attempt, origin, ev, out)
}

// deadLetter sends an undeliverable event to the trigger's dead-letter sink with the
// Knative error extensions; without a sink, or once the sink failed its attempts too,
// the event goes to the broker's dead-letter stream. An event is never dropped.
func (l *consumerLoop) deadLetter(ctx context.Context, st *triggerState, msg jetstream.Msg, meta *jetstream.MsgMetadata, attempt int, origin uint64, ev *cloudevents.Event, failure outcome) {
	dls := st.Delivery.DeadLetterSink
	if dls == nil || attempt > st.Delivery.maxDeliver() {
		l.toStream(ctx, st, msg, meta, attempt, origin, ev, failure)
		return
	}
	logger := l.d.logger.With(zap.String("trigger", st.key()), zap.String("id", ev.ID()),
		zap.String("source", ev.Source()), zap.Int("code", failure.code), zap.String("error", failure.describe()))
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
		logger.Warn("event dead-lettered", zap.String("deadLetterSink", dls.Redacted()), zap.Int("attempts", min(attempt, st.Delivery.attempts())))
		st.metrics.DeadLettered()
		_ = msg.Ack()
		return
	}
	if ctx.Err() != nil {
		_ = msg.Nak()
		return
	}
	if attempt < st.Delivery.maxDeliver() {
		logger.Info("dead-letter sink failed, retrying", zap.Int("attempt", attempt), zap.NamedError("sinkError", out.err))
	} else {
		logger.Info("dead-letter sink failed on its last attempt, keeping the event in the dead-letter stream", zap.NamedError("sinkError", out.err))
	}
	delay := st.Delivery.retryDelay(attempt, out)
	if l.toRetryLane(ctx, st, msg, bus.Retry{Attempt: attempt + 1, At: time.Now().Add(delay), Origin: origin,
		DeadLettering: true, Code: failure.code, Error: failure.describe()}) {
		return
	}
	l.remember(meta, failure)
	_ = msg.NakWithDelay(delay)
}

// toStream stores an undeliverable event in the broker's dead-letter stream, where
// `flint dlq` lists and replays it, then acknowledges it. ev is nil when the stored event
// could not be decoded. When storing fails the event is retried later, never dropped.
func (l *consumerLoop) toStream(ctx context.Context, st *triggerState, msg jetstream.Msg, meta *jetstream.MsgMetadata, attempt int, origin uint64, ev *cloudevents.Event, failure outcome) {
	logger := l.d.logger.With(zap.String("trigger", st.key()), zap.Int("code", failure.code), zap.String("error", failure.describe()))
	if ev != nil {
		logger = logger.With(zap.String("id", ev.ID()), zap.String("source", ev.Source()))
	}
	letter := bus.DeadLetter{
		Namespace:  st.Namespace,
		Broker:     st.Broker,
		Trigger:    st.Name,
		BrokerSeq:  origin,
		Subscriber: st.Subscriber.String(),
		Code:       failure.code,
		Error:      failure.describe(),
		Attempts:   min(attempt, st.Delivery.attempts()),
		Data:       msg.Data(),
	}
	pctx, cancel := context.WithTimeout(ctx, l.d.cfg.PublishTimeout)
	err := bus.PublishDeadLetter(pctx, l.d.js, letter)
	cancel()
	if !l.d.cfg.KeepStreams && (errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders)) {
		// The dead-letter stream is missing (removed, or a server that lost its store).
		ectx, cancel := context.WithTimeout(ctx, l.d.cfg.PublishTimeout)
		if err = bus.EnsureDeadLetterStream(ectx, l.d.js, st.Namespace, st.Broker, l.d.cfg.Streams); err == nil {
			err = bus.PublishDeadLetter(ectx, l.d.js, letter)
		}
		cancel()
	}
	if err != nil {
		if ctx.Err() != nil {
			_ = msg.Nak()
			return
		}
		l.remember(meta, failure)
		delay := st.Delivery.MaxBackoff
		logger.Error("storing dead letter failed, retrying", zap.NamedError("storeError", err), zap.Duration("retryIn", delay))
		_ = msg.NakWithDelay(delay)
		return
	}
	logger.Warn("event dead-lettered", zap.String("deadLetterStream", st.deadLetterStream()),
		zap.Int("attempts", letter.Attempts), zap.String("replay", "flint dlq replay --trigger "+st.key()))
	st.metrics.DeadLettered()
	_ = msg.Ack()
}

// remember keeps why an event failed while its dead-lettering is retried.
func (l *consumerLoop) remember(meta *jetstream.MsgMetadata, failure outcome) {
	l.mu.Lock()
	l.deadLetters[meta.Sequence.Stream] = failure
	l.mu.Unlock()
}

// progress reports InProgress on the message a worker delivers while the delivery
// runs, so JetStream does not hand it out again; each worker keeps one, with one timer,
// for all its deliveries.
type progress struct {
	mu      sync.Mutex
	msg     jetstream.Msg
	every   time.Duration
	timer   *time.Timer
	stopped bool
}

func newProgress() *progress {
	k := &progress{stopped: true}
	k.timer = time.AfterFunc(time.Hour, k.report)
	k.timer.Stop()
	return k
}

// start reports progress on msg every interval until stop.
func (k *progress) start(msg jetstream.Msg, every time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.msg, k.every, k.stopped = msg, every, false
	k.timer.Reset(every)
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

// stop ends the reports of the current message.
func (k *progress) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	k.msg = nil
	k.timer.Stop()
}
