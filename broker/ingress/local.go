package ingress

import (
	"context"
	"fmt"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/flintevents/flint/broker/internal/wire"
)

// Publish stores ev in the broker namespace/name as a POST to the ingress would, for a
// caller in the same process: the same checks (known broker, size limit, valid event,
// data nesting, hop budget), the same de-duplication key and the same wait for JetStream's
// acknowledgement. It sets the event's knativebrokerttl. Failures wrap the errors of
// this package (ErrNotFound, ErrTooLarge, ErrInvalidEvent, ErrTTLExpired) or the
// publisher's.
func (h *Handler) Publish(ctx context.Context, namespace, name string, ev *cloudevents.Event) error {
	target, ok := h.registry.Lookup(namespace, name)
	if !ok {
		return fmt.Errorf("looking up %s/%s: %w", namespace, name, ErrNotFound)
	}
	if n := int64(len(ev.Data())); n > h.cfg.MaxEventSize {
		return fmt.Errorf("accepting event of %d bytes, limit %d: %w", n, h.cfg.MaxEventSize, ErrTooLarge)
	}
	if err := ev.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	if err := checkAttributes(ev); err != nil {
		return err
	}
	if err := checkDataDepth(ev); err != nil {
		return err
	}
	ttl, alive := wire.NextHop(ev, h.cfg.DefaultTTL)
	if !alive {
		return fmt.Errorf("accepting event %s: %w", ev.ID(), ErrTTLExpired)
	}
	wire.SetTTL(ev, ttl)
	if err := h.checkStoredSize(ev); err != nil {
		return err
	}
	return h.store(ctx, target.Subject, ev)
}
