package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Source holds the metric families of event sources, with Argo Events' names
// and labels (eventsource_name, event_name).
type Source struct {
	running    *prometheus.GaugeVec
	received   *prometheus.CounterVec
	sent       *prometheus.CounterVec
	sentFailed *prometheus.CounterVec
	failed     *prometheus.CounterVec
	filtered   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
}

func newSource(reg prometheus.Registerer) *Source {
	labels := []string{LabelEventSource, LabelEventName}
	s := &Source{
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "argo_events_event_service_running_total",
			Help: "How many event services are running."}, labels),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flint_eventsource_events_received_total",
			Help: "Events an event source adapter handed to its host."}, labels),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "argo_events_events_sent_total",
			Help: "Events the broker acknowledged."}, labels),
		sentFailed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "argo_events_events_sent_failed_total",
			Help: "Events the broker did not acknowledge."}, labels),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "argo_events_events_processing_failed_total",
			Help: "Events that failed before or while being sent."}, labels),
		filtered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flint_eventsource_events_filtered_total",
			Help: "Events an event source's filters dropped instead of sending them: its filter expression, a github entry's events list, a resource entry's filter."}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "argo_events_event_processing_duration_milliseconds",
			Help: "Time from an event handed to the host to its acknowledgement by the broker, in milliseconds.", Buckets: latencyBuckets}, labels),
	}
	reg.MustRegister(s.running, s.received, s.sent, s.sentFailed, s.failed, s.filtered, s.duration)
	return s
}

// SourceEvent is the metrics of one event of one EventSource (one entry
// under its type), resolved once so counting costs no label lookup.
type SourceEvent struct {
	running    prometheus.Gauge
	received   prometheus.Counter
	sent       prometheus.Counter
	sentFailed prometheus.Counter
	failed     prometheus.Counter
	filtered   prometheus.Counter
	duration   prometheus.Observer
}

// Event resolves the metrics of event name of eventSource. A nil Source
// yields a nil SourceEvent, whose methods do nothing.
func (s *Source) Event(eventSource, name string) *SourceEvent {
	if s == nil {
		return nil
	}
	return &SourceEvent{
		running:    s.running.WithLabelValues(eventSource, name),
		received:   s.received.WithLabelValues(eventSource, name),
		sent:       s.sent.WithLabelValues(eventSource, name),
		sentFailed: s.sentFailed.WithLabelValues(eventSource, name),
		failed:     s.failed.WithLabelValues(eventSource, name),
		filtered:   s.filtered.WithLabelValues(eventSource, name),
		duration:   s.duration.WithLabelValues(eventSource, name),
	}
}

// Running marks the event's service as running (1) or stopped (0).
func (e *SourceEvent) Running(on bool) {
	if e == nil {
		return
	}
	if on {
		e.running.Set(1)
		return
	}
	e.running.Set(0)
}

// Received counts an event handed to the host and returns when it was.
func (e *SourceEvent) Received() time.Time {
	if e == nil {
		return time.Time{}
	}
	e.received.Inc()
	return time.Now()
}

// Sent counts an event the broker acknowledged since start.
func (e *SourceEvent) Sent(start time.Time) {
	if e == nil {
		return
	}
	e.sent.Inc()
	e.duration.Observe(sinceMillis(start))
}

// SendFailed counts an event the broker did not acknowledge.
func (e *SourceEvent) SendFailed() {
	if e == nil {
		return
	}
	e.sentFailed.Inc()
	e.failed.Inc()
}

// Failed counts an event that could not be built.
func (e *SourceEvent) Failed() {
	if e == nil {
		return
	}
	e.failed.Inc()
}

// Filtered counts an event the source's filter expression dropped.
func (e *SourceEvent) Filtered() {
	if e == nil {
		return
	}
	e.filtered.Inc()
}
