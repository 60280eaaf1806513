package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// LocalSubscriber receives events in the dispatcher's own process, with no HTTP
// exchange: the dispatcher calls it where it would post to the subscriber's URL, with
// the same timeout, retries, backoff and dead-lettering.
type LocalSubscriber interface {
	// Receive handles one delivery of ev; attempt counts the deliveries of this event
	// to this trigger from 1 (a dead letter replayed with `flint dlq replay` was
	// delivered before, and comes with 2 or more). nil means delivered; an error is a failed delivery,
	// retried and dead-lettered as a 500 answer is, or, when it wraps ErrNotRetryable,
	// dead-lettered at once as a 422 answer is. ev must not be kept after Receive
	// returns.
	Receive(ctx context.Context, ev *cloudevents.Event, attempt int) error
}

// ErrNotRetryable is wrapped by the error of a LocalSubscriber for an event that no
// redelivery can help: the event is dead-lettered at once, with the error as the reason,
// as when an HTTP subscriber answers 422.
var ErrNotRetryable = errors.New("not retryable")

// LocalSubscribers returns the in-process subscriber behind a subscriber URL, or nil
// when deliveries to it go over HTTP.
type LocalSubscribers func(subscriber *url.URL) LocalSubscriber

// receive delivers ev to a local subscriber within timeout and describes the result
// as an HTTP delivery would: 202 when delivered, 503 when cut short by its deadline
// or a stop, 422 when the error wraps ErrNotRetryable, else 500, with the error as
// the failure's body.
func receive(ctx context.Context, sub LocalSubscriber, ev *cloudevents.Event, attempt int, timeout time.Duration) outcome {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := sub.Receive(ctx, ev, attempt)
	switch {
	case err == nil:
		return outcome{code: http.StatusAccepted}
	case ctx.Err() != nil:
		return outcome{code: http.StatusServiceUnavailable, err: fmt.Errorf("in-process subscriber: %w", ctx.Err())}
	case errors.Is(err, ErrNotRetryable):
		return outcome{code: http.StatusUnprocessableEntity, body: head([]byte(err.Error())), err: fmt.Errorf("in-process subscriber: %w", err)}
	default:
		return outcome{code: http.StatusInternalServerError, body: head([]byte(err.Error())), err: fmt.Errorf("in-process subscriber: %w", err)}
	}
}
