package sensor

import (
	"context"
	"time"
)

// Observer is told of every trigger firing: which trigger, when it started
// and how it ended (retries and dlqTrigger included). It must be cheap and
// safe for concurrent use.
type Observer interface {
	Fired(trigger string, start time.Time, err error)
}

type observerKey struct{}

// WithObserver returns ctx carrying o, which Handle tells of the firings of
// the event it handles under ctx.
func WithObserver(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

func observerFrom(ctx context.Context) Observer {
	o, _ := ctx.Value(observerKey{}).(Observer)
	return o
}
