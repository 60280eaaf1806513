package sources

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// The failures of an Emitter that a push source tells its caller apart from
// "retry later", matched with errors.Is; replyFor maps each to its HTTP status
// in one place, as the broker's ingress does for its own.
var (
	// ErrEventTooLarge means the broker refused the event for its size once
	// encoded (the event data, or the stored event with its attributes, over
	// the broker's limit): sending the same request again cannot succeed.
	ErrEventTooLarge = errors.New("event too large")
	// ErrNotConfirmed means the broker did not confirm the event before the
	// deadline: it may be stored, and it may still fire. Every other failure
	// of an Emitter means the event was not stored.
	ErrNotConfirmed = errors.New("the broker did not confirm the event in time")
)

// NotConfirmed is the error of an Emitter whose broker did not answer before
// the deadline, so the event may be stored: it matches ErrNotConfirmed and err.
func NotConfirmed(err error) error {
	return fmt.Errorf("%w: %w", ErrNotConfirmed, err)
}

// RetryAfter is the Retry-After, in seconds, of a push source's 503: the
// broker did not store the event (its store full, or out of reach), and a
// full store frees space as triggers deliver.
const RetryAfter = 1

// TooLarge is the error of an Emitter whose broker refused an event for its
// size: it matches ErrEventTooLarge and err (whose message it takes, so err
// should hold reason), and reason, the broker's own account naming its
// limit, is what a push source answers its caller.
func TooLarge(reason string, err error) error {
	return &tooLargeError{reason: reason, err: err}
}

type tooLargeError struct {
	reason string
	err    error
}

// Error implements error: err's message, which holds the reason.
func (e *tooLargeError) Error() string {
	if e.err == nil {
		return e.reason
	}
	return e.err.Error()
}

func (e *tooLargeError) Unwrap() []error { return []error{ErrEventTooLarge, e.err} }

// replyFor is the status and the plain-text answer of a push request whose
// event emit did not store, and the Retry-After to send with it (0: none):
// 413 for an event too large, 504 when it may be stored (no Retry-After: a
// retry of an event without a natural id would store a second one), else 503
// with Retry-After, as the event surely was not stored.
func replyFor(err error) (status int, msg string, retryAfter int) {
	var tooLarge *tooLargeError
	switch {
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, tooLarge.reason, 0
	case errors.Is(err, ErrEventTooLarge):
		return http.StatusRequestEntityTooLarge, ErrEventTooLarge.Error(), 0
	case errors.Is(err, ErrNotConfirmed):
		return http.StatusGatewayTimeout, "event not confirmed in time: it may have been recorded", 0
	}
	return http.StatusServiceUnavailable, "failed to record event", RetryAfter
}

// setRetryAfter sets the Retry-After header of an answer; 0 sets none.
func setRetryAfter(h http.Header, seconds int) {
	if seconds > 0 {
		h.Set("Retry-After", strconv.Itoa(seconds))
	}
}
