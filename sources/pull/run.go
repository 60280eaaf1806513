package pull

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/flintevents/flint/sources"
)

// Run reads the origin dial connects to until ctx ends: it emits each
// message's event and acknowledges the message once emit returned nil (see
// the package documentation). It returns nil after ctx ended and every
// message is settled, or an error when dial or Receive failed more times in a
// row than opts.Reconnect.Steps bears. It never calls emit after returning.
func Run(ctx context.Context, dial Dial, emit sources.Emitter, opts Options) error {
	if dial == nil || emit == nil {
		return errors.New("pull: dial and emit are required")
	}
	r := newRunner(emit, opts)
	_, err := r.loop(ctx, dial, false)
	return err
}

// runner is the state of one Run or Drain of one entry.
type runner struct {
	opts  Options
	emit  sources.Emitter
	log   *zap.Logger
	wg    sync.WaitGroup   // messages in flight
	lanes map[string]*lane // with Ordered, the lanes of the consumer
	acked atomic.Int64     // messages acknowledged
}

// lane is, with Ordered, the messages of one Message.Lane not yet settled, in
// receive order. Whichever worker finishes the message at its head settles
// every finished message from the head on, in order, so no worker waits for
// another and acks still go in receive order.
type lane struct {
	mu      sync.Mutex
	pending []*job // the head is the oldest message not yet settled
	broken  bool   // a message was not stored: the later ones are not acked
}

func newRunner(emit sources.Emitter, opts Options) *runner {
	opts = opts.withDefaults()
	return &runner{
		opts:  opts,
		emit:  emit,
		log:   opts.Logger.With(zap.String("eventName", opts.Name)),
		lanes: map[string]*lane{},
	}
}

// loop dials and consumes until ctx ends, the reconnect schedule is
// exhausted, or (drain) the origin is empty, which it reports.
func (r *runner) loop(ctx context.Context, dial Dial, drain bool) (empty bool, err error) {
	failures := 0
	for {
		c, err := r.dial(ctx, dial)
		if err == nil {
			var received bool
			empty, received, err = r.consume(ctx, c, drain)
			r.wg.Wait()
			clear(r.lanes)
			if cerr := c.Close(); cerr != nil {
				r.log.Debug("closing the consumer", zap.Error(cerr))
			}
			if empty || ctx.Err() != nil {
				return empty, nil
			}
			if received {
				failures = 0
			}
		}
		if ctx.Err() != nil {
			return false, nil
		}
		if r.opts.Reconnect.exhausted(failures + 1) {
			return false, fmt.Errorf("pull: %s: giving up after %d failures in a row: %w", r.opts.Name, failures+1, err)
		}
		wait := r.opts.Reconnect.Wait(failures)
		failures++
		r.log.Warn("the origin failed; connecting again", zap.Error(err), zap.Duration("in", wait), zap.Int("failures", failures))
		if !sleep(ctx, wait) {
			return false, nil
		}
	}
}

// dial connects once, within the dial timeout.
func (r *runner) dial(ctx context.Context, dial Dial) (Consumer, error) {
	dctx, cancel := context.WithTimeout(ctx, r.opts.DialTimeout)
	defer cancel()
	c, err := dial(dctx)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	if c == nil {
		return nil, errors.New("connecting: the dial returned no consumer")
	}
	return c, nil
}

// consume receives from c and hands each message to one of opts.InFlight
// workers until ctx ends or Receive fails; in drain mode also until the origin
// is empty. received says whether one Receive returned messages. It returns
// once every message it handed out is settled and the workers stopped.
func (r *runner) consume(ctx context.Context, c Consumer, drain bool) (empty, received bool, err error) {
	// Unbuffered, so that at most InFlight messages are out at once.
	work := make(chan *job)
	var workers sync.WaitGroup
	for range r.opts.InFlight {
		workers.Go(func() {
			acks := newAckContext(ctx, r.opts.AckTimeout)
			defer acks.release()
			for j := range work {
				r.settle(ctx, c, acks, j)
			}
		})
	}
	defer workers.Wait()
	defer close(work)
	for {
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if drain {
			rctx, cancel = context.WithTimeout(ctx, r.opts.Idle)
		}
		msgs, err := c.Receive(rctx)
		idle := drain && rctx.Err() != nil && ctx.Err() == nil
		cancel()
		if ctx.Err() != nil {
			// Messages Receive returned as ctx ended were not emitted: they
			// go back to the origin when the consumer closes.
			return false, received, nil
		}
		if err != nil && !idle {
			return false, received, fmt.Errorf("receiving: %w", err)
		}
		if len(msgs) == 0 {
			if !drain {
				continue
			}
			r.wg.Wait()
			if e, err := r.empty(ctx, c); err != nil || e {
				return e, received, err
			}
			continue
		}
		received = true
		for i, m := range msgs {
			j := &job{m: m}
			if r.opts.Ordered {
				j.lane = r.lane(m.Lane)
				j.lane.push(j)
			}
			r.wg.Add(1)
			select {
			case work <- j:
			case <-ctx.Done():
				if j.lane != nil {
					j.lane.drop(j)
				}
				r.wg.Done()
				r.handBack(ctx, c, msgs[i:])
				return false, received, nil
			}
		}
	}
}

// job is a message handed to a worker; with Ordered, the lane it waits in
// and, under the lane's lock, whether its emit finished and stored it.
type job struct {
	m      Message
	lane   *lane
	done   bool
	stored bool
}

// lane returns the lane named name, made on first use.
func (r *runner) lane(name string) *lane {
	l, ok := r.lanes[name]
	if !ok {
		l = &lane{}
		r.lanes[name] = l
	}
	return l
}

// push queues j behind the lane's other messages.
func (l *lane) push(j *job) {
	l.mu.Lock()
	l.pending = append(l.pending, j)
	l.mu.Unlock()
}

// drop takes j, the last message pushed and never handed out, off the lane.
func (l *lane) drop(j *job) {
	l.mu.Lock()
	if n := len(l.pending); n > 0 && l.pending[n-1] == j {
		l.pending[n-1] = nil
		l.pending = l.pending[:n-1]
	}
	l.mu.Unlock()
}

// empty reports whether nothing waits for c once every message is settled:
// its backlog is zero, or, when it cannot count one, nothing arrived.
func (r *runner) empty(ctx context.Context, c Consumer) (bool, error) {
	b, ok := c.(Backlogger)
	if !ok {
		return true, nil
	}
	bctx, cancel := context.WithTimeout(ctx, r.opts.DialTimeout)
	defer cancel()
	n, err := b.Backlog(bctx)
	if err != nil {
		if ctx.Err() != nil {
			return false, nil
		}
		return false, fmt.Errorf("counting the backlog: %w", err)
	}
	return n <= 0, nil
}

// settle emits j's event; without Ordered it then settles j, and with
// Ordered it settles every finished message at the head of j's lane.
func (r *runner) settle(ctx context.Context, c Consumer, acks *ackContext, j *job) {
	stored := r.store(ctx, j.m)
	l := j.lane
	if l == nil {
		r.finish(acks.get(), c, j.m, stored, stored)
		r.wg.Done()
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	j.done, j.stored = true, stored
	for len(l.pending) > 0 && l.pending[0].done {
		h := l.pending[0]
		l.pending[0] = nil
		l.pending = l.pending[1:]
		ok := h.stored && !l.broken
		if !h.stored {
			l.broken = true
		}
		r.finish(acks.get(), c, h.m, h.stored, ok)
		r.wg.Done()
	}
}

// finish acknowledges m when ok, hands it back when it was not stored, and
// otherwise leaves it: stored, but an earlier message of its lane was not,
// and acking it would acknowledge the earlier one too.
func (r *runner) finish(actx context.Context, c Consumer, m Message, stored, ok bool) {
	switch {
	case ok:
		if err := c.Ack(actx, m); err != nil {
			// Stored: the redelivery this makes is dropped under the same id.
			r.log.Warn("acknowledging a stored message", zap.String("id", m.ID), zap.Error(err))
		} else {
			r.acked.Add(1)
		}
	case !stored:
		if err := c.Nack(actx, m); err != nil {
			r.log.Debug("handing back a message not stored", zap.String("id", m.ID), zap.Error(err))
		}
	}
}

// store emits m's event until the emitter stores it, the attempts run out
// (not Ordered), the broker refuses it for its size, or ctx ends.
func (r *runner) store(ctx context.Context, m Message) bool {
	ev := sources.Event{Name: r.opts.Name, Data: m.Data, Extensions: m.Extensions, ID: m.ID, Time: m.Time}
	for n := 0; ; n++ {
		err := r.emit(ctx, ev)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if errors.Is(err, sources.ErrEventTooLarge) {
			r.log.Error("the broker refuses the message for its size; it stays at the origin", zap.String("id", m.ID), zap.Error(err))
			return false
		}
		if !r.opts.Ordered && n+1 >= r.opts.Attempts {
			r.log.Warn("the broker did not store the event; handing the message back", zap.String("id", m.ID), zap.Int("attempts", n+1), zap.Error(err))
			return false
		}
		if !sleep(ctx, r.opts.Retry.Wait(n)) {
			return false
		}
	}
}

// handBack returns messages received but never emitted to the origin.
func (r *runner) handBack(ctx context.Context, c Consumer, msgs []Message) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.AckTimeout)
	defer cancel()
	for _, m := range msgs {
		if err := c.Nack(actx, m); err != nil {
			r.log.Debug("handing back a message not emitted", zap.String("id", m.ID), zap.Error(err))
		}
	}
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
