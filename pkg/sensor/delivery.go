package sensor

import "context"

type firstDeliveryKey struct{}

// WithFirstDelivery returns ctx marking the event Handle is given as delivered for the
// first time: no firing of it can have happened yet, so Handle records the idempotency
// keys of its firings but does not look them up, which saves a state-store round trip
// per firing. A caller that cannot tell (an HTTP delivery) leaves ctx as it is.
func WithFirstDelivery(ctx context.Context) context.Context {
	return context.WithValue(ctx, firstDeliveryKey{}, true)
}

// firstDelivery reports whether ctx marks a first delivery (see WithFirstDelivery).
func firstDelivery(ctx context.Context) bool {
	first, _ := ctx.Value(firstDeliveryKey{}).(bool)
	return first
}
