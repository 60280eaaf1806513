package mqtt

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/pull"
)

// Source runs the mqtt entries of one EventSource, one pull runner each. It
// is a sources.Source and a pull.Drainer.
type Source struct {
	runner  *pull.Source
	entries map[string]*entry
}

var (
	_ sources.Source = (*Source)(nil)
	_ pull.Drainer   = (*Source)(nil)
)

// Run subscribes every entry until ctx ends (see pull.Source.Run).
func (s *Source) Run(ctx context.Context, emit sources.Emitter) error {
	return s.runner.Run(ctx, s.filtered(emit))
}

// Drain works off what the broker holds for every entry and returns (see
// pull.Source.Drain); MQTT counts no backlog, so an entry is empty after
// pull.Options.Idle without a message.
func (s *Source) Drain(ctx context.Context, emit sources.Emitter, deadline time.Time) (pull.Drained, error) {
	return s.runner.Drain(ctx, s.filtered(emit), deadline)
}

// StopGrace is how long an event being stored when the source stops has to
// be stored and its message acknowledged. A message whose event was stored
// but not acknowledged comes back to the next process under a new id (MQTT
// has no id that tells a redelivery), so a stop lets the stores in flight
// end rather than cut them short.
const StopGrace = 5 * time.Second

// withGrace is ctx, ending grace after ctx ends instead of at once; done
// releases it.
func withGrace(ctx context.Context, grace time.Duration) (context.Context, func()) {
	out, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var (
		mu    sync.Mutex
		timer *time.Timer
	)
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(grace, cancel)
	})
	return out, func() {
		stop()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

// filtered is emit behind each entry's filter expression, with StopGrace: an event the
// filter drops, or a message that made no event (a jsonBody payload that is
// not JSON), counts as settled, so its message is acknowledged as Argo does.
func (s *Source) filtered(emit sources.Emitter) sources.Emitter {
	return func(runCtx context.Context, ev sources.Event) error {
		ctx, done := withGrace(runCtx, StopGrace)
		defer done()
		e := s.entries[ev.Name]
		if e == nil {
			return emit(ctx, ev)
		}
		if len(ev.Data) == 0 {
			e.events.Failed()
			e.log.Error("message dropped: jsonBody is set and its payload is not JSON", zap.String("id", ev.ID))
			return nil
		}
		if pass, reason := e.pass(ctx, ev.Data); !pass {
			e.events.Filtered()
			e.log.Debug("event dropped by filter", zap.String("id", ev.ID), zap.String("reason", reason))
			return nil
		}
		return e.store(runCtx, ctx, emit, ev)
	}
}

// store emits ev until the broker stores it. It retries here rather than
// leave it to the runner, so that a source stopping (runCtx ended) still
// stores the events in flight within StopGrace: with acknowledgements in
// order, one event given up would leave every later one of the stream
// unacknowledged, to come back to the next process under new ids. An event
// the broker refuses for its size is dropped (logged, its message
// acknowledged): it can never be stored, and kept at the origin it would
// hold up the acknowledgement of every later message.
func (e *entry) store(runCtx, ctx context.Context, emit sources.Emitter, ev sources.Event) error {
	for n := 0; ; n++ {
		err := emit(ctx, ev)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, sources.ErrEventTooLarge):
			e.events.Failed()
			e.log.Error("message dropped: the broker refuses its event for its size", zap.String("id", ev.ID), zap.Error(err))
			return nil
		case ctx.Err() != nil:
			return err
		}
		if n == 0 || n%10 == 0 {
			e.log.Warn("the broker did not store the event; retrying", zap.String("id", ev.ID), zap.Int("attempts", n+1), zap.Error(err))
		}
		t := time.NewTimer(pull.DefaultRetry.Wait(n))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}
