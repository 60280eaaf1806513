package ingress

import (
	"errors"
	"net/http"

	"github.com/flintevents/flint/broker/internal/bus"
)

// The failures of a POST to the ingress, matched with errors.Is; statusFor maps each to
// its HTTP status in one place.
var (
	// ErrMalformedPath means the path is not /<namespace>/<broker>.
	ErrMalformedPath = errors.New("malformed path, want /<namespace>/<broker>")
	// ErrNotFound means no broker of that namespace and name is known.
	ErrNotFound = errors.New("broker not found")
	// ErrMethodNotAllowed means a method other than POST or OPTIONS.
	ErrMethodNotAllowed = errors.New("method not allowed, use POST")
	// ErrTooLarge means the request body exceeds the size limit.
	ErrTooLarge = errors.New("event too large")
	// ErrInvalidEvent means the body is not a valid CloudEvent.
	ErrInvalidEvent = errors.New("invalid CloudEvent")
	// ErrTTLExpired means the event's knativebrokerttl is spent: it looped too often.
	ErrTTLExpired = errors.New("knativebrokerttl expired, event dropped")
	// ErrUnavailable means the event is not stored: JetStream refused it or could not
	// be reached, or the broker's store is full (bus.ErrStoreFull); retry later.
	ErrUnavailable = errors.New("event store unavailable, retry later")
	// ErrUnconfirmed means JetStream did not answer before the store's deadline: the
	// event may be stored, and sending it again with the same source and id stores it
	// once.
	ErrUnconfirmed = errors.New("event store did not confirm the event in time; it may be stored, resend it with the same id")
)

// statusFor is the HTTP status of a failed request.
func statusFor(err error) int {
	switch {
	case errors.Is(err, ErrMalformedPath), errors.Is(err, ErrInvalidEvent), errors.Is(err, ErrTTLExpired):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrTooLarge), errors.Is(err, bus.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrUnconfirmed):
		return http.StatusGatewayTimeout
	case errors.Is(err, ErrUnavailable), errors.Is(err, bus.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
