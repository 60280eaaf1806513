package receiver

import (
	"context"
	"net/http"
)

// hardStopKey is the context key of the context a receiver cancels when its
// drain gives up.
type hardStopKey struct{}

// Detached returns a context for the work a request must finish once its body
// is read, such as storing its event: it carries the request's values but
// does not end when the client half-closes or goes away, so an event is
// stored or surely not, never cut off half-way. It ends when cancel is
// called, or when the receiver stops and its drain runs out of time. A
// request a Receiver did not serve gets a context that ends only with cancel.
func Detached(req *http.Request) (context.Context, context.CancelFunc) {
	ctx, end := context.WithCancel(context.WithoutCancel(req.Context()))
	stop, ok := req.Context().Value(hardStopKey{}).(context.Context)
	if !ok {
		return ctx, end
	}
	unhook := context.AfterFunc(stop, end)
	return ctx, func() {
		unhook()
		end()
	}
}
