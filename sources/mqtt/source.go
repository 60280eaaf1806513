package mqtt

import (
	"context"
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
	log     *zap.Logger
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

// filtered is emit behind each entry's filter expression: an event the
// filter drops, or a message that made no event (a jsonBody payload that is
// not JSON), counts as settled, so its message is acknowledged as Argo does.
func (s *Source) filtered(emit sources.Emitter) sources.Emitter {
	return func(ctx context.Context, ev sources.Event) error {
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
		return emit(ctx, ev)
	}
}
