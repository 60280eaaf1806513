package sensor

import "context"

type inProcessKey struct{}

// WithInProcessDelivery returns ctx telling Handle that the event comes from a broker
// dispatcher in the same process, which acknowledges it as soon as Handle returns nil,
// and that this is its attempt-th delivery (from 1). Handle then looks up idempotency
// keys only for a redelivery (a first delivery cannot have fired anything yet), and
// records them only when the event will be delivered again (another firing of the
// round failed): the acknowledgement follows at once, with no network between, so a
// successful round leaves nothing in the state store. Over HTTP, where an answer can
// be lost and the event delivered again, Handle looks up and records every key.
func WithInProcessDelivery(ctx context.Context, attempt int) context.Context {
	return context.WithValue(ctx, inProcessKey{}, attempt)
}

// inProcessDelivery returns the attempt of an in-process delivery (see
// WithInProcessDelivery), ok false for any other delivery.
func inProcessDelivery(ctx context.Context) (attempt int, ok bool) {
	attempt, ok = ctx.Value(inProcessKey{}).(int)
	return attempt, ok
}
