package sensor

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/flintevents/flint/pkg/sensor"
)

// DefaultMaxBodySize is the largest request body ServeHTTP reads: the broker's largest
// event (1 MiB) with room for its attributes in structured mode.
const DefaultMaxBodySize int64 = 1<<20 + 64<<10

// ServeHTTP is the function's HTTP edge as the broker calls it: a CloudEvent in
// binary or structured mode. It answers 202 with no body when the event was
// handled, 400 for a request that is not a CloudEvent, 413 for a body over
// DefaultMaxBodySize, 422 with the reason as a plain-text body when no
// redelivery can help (sensor.ErrPermanent: a parameter, data or template
// failure), which the broker dead-letters at once, and 500 when a trigger
// failed so the broker redelivers.
func (f *Function) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.serve(w, r, DefaultMaxBodySize)
}

// Limited returns the function's HTTP edge, as ServeHTTP, reading bodies of at most
// maxBody bytes (DefaultMaxBodySize when not positive) and answering 413 beyond.
func (f *Function) Limited(maxBody int64) http.Handler {
	if maxBody <= 0 {
		maxBody = DefaultMaxBodySize
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serve(w, r, maxBody) })
}

func (f *Function) serve(w http.ResponseWriter, r *http.Request, maxBody int64) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "only POST is served", http.StatusMethodNotAllowed)
		return
	}
	if r.ContentLength > maxBody {
		http.Error(w, fmt.Sprintf("event of %d bytes too large, limit %d", r.ContentLength, maxBody), http.StatusRequestEntityTooLarge)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	msg := cehttp.NewMessageFromHttpRequest(r)
	defer func() { _ = msg.Finish(nil) }()
	ce, err := binding.ToEvent(r.Context(), msg)
	if err != nil {
		if tooBig := new(http.MaxBytesError); errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("event too large, limit %d bytes", maxBody), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "not a CloudEvent: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := ce.Validate(); err != nil {
		http.Error(w, "invalid CloudEvent: "+err.Error(), http.StatusBadRequest)
		return
	}
	if _, err := f.Handle(r.Context(), *ce); err != nil {
		if errors.Is(err, sensor.ErrPermanent) {
			// The broker retries no 422: it dead-letters the event at once, with
			// this body as the reason (knativeerrordata, `flint dlq`).
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		code := http.StatusInternalServerError
		if r.Context().Err() != nil {
			// The caller went away (or the function is stopping): not the
			// trigger's fault, and retryable all the same.
			code = http.StatusServiceUnavailable
		}
		// The broker treats a non-CloudEvent body as a failed delivery
		// anyway; keep the reason out of the body and in the logs.
		w.WriteHeader(code)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
