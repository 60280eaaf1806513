package dispatcher

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Consumer loop tuning.
const (
	// pullExpiry is how long one pull request waits.
	pullExpiry = 10 * time.Second
	// pullHeartbeat is how often the server confirms a pull request is alive. A
	// request lost with the node that led the consumer is noticed after two
	// missed heartbeats and pulled again, so deliveries resume within about 4 s
	// of a stream leader's death, not within two expiries.
	pullHeartbeat = 2 * time.Second
	// drainWait bounds the wait for buffered messages to be handed back when a loop stops.
	drainWait = time.Second
	// retryMin and retryMax bound the pause before re-creating a failed consumer.
	retryMin = 100 * time.Millisecond
	retryMax = 10 * time.Second
)

// consumerLoop pulls a trigger's events and runs up to Concurrency deliveries at once;
// or, for its retry lane, the events it retries, up to RetryConcurrency at once.
type consumerLoop struct {
	d        *Dispatcher
	stream   string
	consumer string
	config   atomic.Pointer[jetstream.ConsumerConfig]
	state    atomic.Pointer[triggerState]
	// workers is the most deliveries that run at once (Config.Concurrency, or
	// RetryConcurrency for a lane); pull is how many events the subscription buffers.
	workers, pull int
	// lane marks the loop of a trigger's retry lane.
	lane bool
	// retries is the loop of the trigger's retry lane, nil while it has none; always
	// nil for a lane.
	retries atomic.Pointer[consumerLoop]

	// cancel and done are set by start and guarded by Dispatcher.mu.
	cancel context.CancelFunc
	done   chan struct{}

	// deadLetters remembers, by stream sequence, the failure of events whose dead-letter
	// delivery is being retried.
	mu          sync.Mutex
	deadLetters map[uint64]outcome
	// inPlace remembers, by stream sequence, the events this loop handed back to
	// be retried where they are, because the retry lane could not take them:
	// their next delivery counts as an attempt, not as a run that died.
	inPlace map[uint64]bool
}

func newConsumerLoop(d *Dispatcher, st *triggerState, cfg jetstream.ConsumerConfig, lane bool) *consumerLoop {
	l := &consumerLoop{
		d:           d,
		stream:      st.stream(),
		consumer:    cfg.Durable,
		workers:     d.cfg.Concurrency,
		pull:        min(d.cfg.Concurrency, 256),
		lane:        lane,
		deadLetters: make(map[uint64]outcome),
		inPlace:     make(map[uint64]bool),
	}
	if lane {
		l.workers, l.pull = d.cfg.RetryConcurrency, min(d.cfg.RetryPending, 256)
	}
	l.state.Store(st)
	l.config.Store(&cfg)
	return l
}

// withRetries is l and, when it has one, the loop of its retry lane.
func (l *consumerLoop) withRetries() []*consumerLoop {
	if r := l.retries.Load(); r != nil {
		return []*consumerLoop{l, r}
	}
	return []*consumerLoop{l}
}

func (l *consumerLoop) start(cancel context.CancelFunc) {
	l.cancel = cancel
	l.done = make(chan struct{})
}

// stop cancels the loop and waits for it to exit; in-flight deliveries keep running.
func (l *consumerLoop) stop() {
	l.signalStop()
	l.awaitStop()
}

// signalStop cancels the loop without waiting, so many loops can wind down at once.
func (l *consumerLoop) signalStop() {
	if l.cancel != nil {
		l.cancel()
	}
}

// awaitStop waits for a signalled loop to exit.
func (l *consumerLoop) awaitStop() {
	if l.cancel == nil {
		return
	}
	<-l.done
	l.cancel = nil
}

// run consumes until ctx is done, re-creating the consumer and its iterator after errors
// such as a deleted consumer or missing heartbeats.
func (l *consumerLoop) run(ctx context.Context) {
	defer close(l.done)
	logger := l.d.logger.With(zap.String("trigger", l.state.Load().key()), zap.String("consumer", l.consumer))
	wait := retryMin
	for ctx.Err() == nil {
		err := l.consume(ctx)
		if ctx.Err() != nil {
			return
		}
		logger.Warn("consumer interrupted, re-creating it", zap.Error(err), zap.Duration("after", wait))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, retryMax)
		if _, err := l.d.js.CreateOrUpdateConsumer(ctx, l.stream, *l.config.Load()); err != nil {
			logger.Warn("re-creating consumer", zap.Error(err))
			continue
		}
		wait = retryMin
	}
}

// consume runs one Consume subscription until it fails or ctx is done. Deliveries run
// on up to Concurrency workers, started as the load needs them and kept until the
// subscription ends, so a busy trigger starts no goroutine per event. The handler
// blocks until a worker is free, which holds back further pulls: that is the
// backpressure. A retry lane's handler never blocks: it hands an event that is not
// due yet back until its time (NakWithDelay), and gives a due one to a goroutine of its
// own that reports progress while it waits for one of the lane's delivery slots
// (retryOne), so no event the lane fetched waits unreported, however many are due at
// once. On ctx done the subscription is drained and events fetched but not started
// are handed back with a Nak, so another dispatcher gets them at once.
func (l *consumerLoop) consume(ctx context.Context) error {
	cons, err := l.d.js.Consumer(ctx, l.stream, l.consumer)
	if err != nil {
		return err
	}
	failed := make(chan error, 1)
	work := make(chan jetstream.Msg)
	quit := make(chan struct{})
	defer close(quit)
	started := 0 // workers; only the handler, which JetStream calls one message at a time, counts them
	slots := make(chan struct{}, l.workers)
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		if ctx.Err() != nil {
			// Stopping: fetched but not started, handed back at once.
			_ = msg.Nak()
			return
		}
		if l.lane {
			if wait := dueIn(msg); wait > 0 {
				_ = msg.NakWithDelay(wait)
				return
			}
			l.d.deliveries.Add(1)
			go l.retryOne(msg, slots, quit)
			return
		}
		select {
		case work <- msg: // an idle worker took it
			return
		default:
		}
		if started < l.workers {
			started++
			l.d.deliveries.Add(1)
			go l.worker(msg, work, quit)
			return
		}
		select {
		case work <- msg:
		case <-ctx.Done():
			_ = msg.Nak()
		case <-quit:
			_ = msg.Nak()
		}
	},
		jetstream.PullMaxMessages(l.pull),
		jetstream.PullExpiry(pullExpiry),
		jetstream.PullHeartbeat(pullHeartbeat),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if needsRecreate(err) {
				select {
				case failed <- err:
				default:
				}
			}
		}),
	)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		err = ctx.Err()
	case err = <-failed:
	}
	cc.Drain()
	select {
	case <-cc.Closed():
	case <-time.After(drainWait):
		cc.Stop()
	}
	return err
}

// worker delivers msg, then every message it takes from work, until quit is closed.
func (l *consumerLoop) worker(msg jetstream.Msg, work <-chan jetstream.Msg, quit <-chan struct{}) {
	defer l.d.deliveries.Done()
	keep := newProgress()
	for {
		l.handle(l.d.deliverCtx, msg, keep)
		select {
		case msg = <-work:
		case <-quit:
			return
		}
	}
}

// retryOne delivers a due event of a retry lane once one of the lane's delivery slots
// is free, reporting progress while it waits; it hands the event back if the
// subscription ends first.
func (l *consumerLoop) retryOne(msg jetstream.Msg, slots chan struct{}, quit <-chan struct{}) {
	defer l.d.deliveries.Done()
	keep := newProgress()
	keep.start(msg, min(l.state.Load().ackWait/3, progressEvery))
	select {
	case slots <- struct{}{}:
	case <-quit:
		keep.stop()
		_ = msg.Nak()
		return
	}
	defer func() { <-slots }()
	l.handle(l.d.deliverCtx, msg, keep)
}

// needsRecreate reports whether a Consume error means the consumer or its pulls are gone,
// so the loop must re-create the consumer and subscribe again.
func needsRecreate(err error) bool {
	return errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, jetstream.ErrNoHeartbeat) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrConnectionClosed) || errors.Is(err, jetstream.ErrBadRequest)
}
