package sensor

import (
	"net/http"

	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// ServeHTTP is the function's HTTP edge as the broker calls it: a CloudEvent in
// binary or structured mode. It answers 202 with no body when the event was
// handled, 400 for a request that is not a CloudEvent, and 500 when a trigger
// failed so the broker redelivers.
func (f *Function) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "only POST is served", http.StatusMethodNotAllowed)
		return
	}
	msg := cehttp.NewMessageFromHttpRequest(r)
	defer func() { _ = msg.Finish(nil) }()
	ce, err := binding.ToEvent(r.Context(), msg)
	if err != nil {
		http.Error(w, "not a CloudEvent: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := ce.Validate(); err != nil {
		http.Error(w, "invalid CloudEvent: "+err.Error(), http.StatusBadRequest)
		return
	}
	if _, err := f.Handle(r.Context(), *ce); err != nil {
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
