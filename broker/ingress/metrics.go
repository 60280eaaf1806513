package ingress

import (
	"context"
	"net/http"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// Counted wraps an ingress handler so that each request to a broker of reg
// moves that broker's event_count and event_dispatch_latencies by the
// response code it got. Requests for unknown brokers are not counted, so a
// client cannot grow the label set.
func Counted(next http.Handler, reg *Registry) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		ns, name, err := parsePath(r.URL.Path)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		target, ok := reg.Lookup(ns, name)
		if !ok || target.Metrics == nil {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		code := rec.code
		if code == 0 {
			code = http.StatusOK
		}
		target.Metrics.Dispatched(code, start)
	})
}

// statusRecorder remembers the first status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// CountedPublish is Publish counted as the ingress counts a POST: by the
// status code a POST of the event would have got.
func (h *Handler) CountedPublish(ctx context.Context, namespace, name string, ev *cloudevents.Event) error {
	target, ok := h.registry.Lookup(namespace, name)
	if !ok || target.Metrics == nil {
		return h.Publish(ctx, namespace, name, ev)
	}
	start := time.Now()
	err := h.Publish(ctx, namespace, name, ev)
	code := http.StatusAccepted
	if err != nil {
		code = statusFor(err)
	}
	target.Metrics.Dispatched(code, start)
	return err
}
