package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Sensor holds the metric families of sensors, with Argo Events' names and
// labels (sensor_name, trigger_name).
type Sensor struct {
	received  *prometheus.CounterVec
	failed    *prometheus.CounterVec
	triggered *prometheus.CounterVec
	actFailed *prometheus.CounterVec
	duration  *prometheus.HistogramVec
}

func newSensor(reg prometheus.Registerer) *Sensor {
	labels := []string{LabelSensor, LabelTrigger}
	s := &Sensor{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flint_sensor_events_received_total",
			Help: "Events delivered to a sensor."}, []string{LabelSensor}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flint_sensor_events_failed_total",
			Help: "Events a sensor answered with a failure, so that the broker redelivers them."}, []string{LabelSensor}),
		triggered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "argo_events_action_triggered_total",
			Help: "Trigger firings that succeeded."}, labels),
		actFailed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "argo_events_action_failed_total",
			Help: "Trigger firings that failed after their retries."}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "argo_events_action_duration_milliseconds",
			Help: "Time a trigger firing took, retries included, in milliseconds.", Buckets: latencyBuckets}, labels),
	}
	reg.MustRegister(s.received, s.failed, s.triggered, s.actFailed, s.duration)
	return s
}

// SensorMetrics is the metrics of one sensor and its triggers, resolved once.
// It is read-only after Sensor.For, so it is safe for concurrent use.
type SensorMetrics struct {
	received prometheus.Counter
	failed   prometheus.Counter
	triggers map[string]*TriggerMetrics
	sensor   string
	parent   *Sensor
}

// TriggerMetrics is the metrics of one trigger of one sensor.
type TriggerMetrics struct {
	triggered prometheus.Counter
	failed    prometheus.Counter
	duration  prometheus.Observer
}

// For resolves the metrics of sensor and its trigger names. A nil Sensor
// yields a nil SensorMetrics, whose methods do nothing.
func (s *Sensor) For(sensor string, triggerNames ...string) *SensorMetrics {
	if s == nil {
		return nil
	}
	m := &SensorMetrics{
		received: s.received.WithLabelValues(sensor),
		failed:   s.failed.WithLabelValues(sensor),
		triggers: make(map[string]*TriggerMetrics, len(triggerNames)),
		sensor:   sensor,
		parent:   s,
	}
	for _, t := range triggerNames {
		m.triggers[t] = s.trigger(sensor, t)
	}
	return m
}

func (s *Sensor) trigger(sensor, name string) *TriggerMetrics {
	return &TriggerMetrics{
		triggered: s.triggered.WithLabelValues(sensor, name),
		failed:    s.actFailed.WithLabelValues(sensor, name),
		duration:  s.duration.WithLabelValues(sensor, name),
	}
}

// Handled counts an event delivered to the sensor and whether it failed.
func (m *SensorMetrics) Handled(err error) {
	if m == nil {
		return
	}
	m.received.Inc()
	if err != nil {
		m.failed.Inc()
	}
}

// Fired counts one firing of trigger that started at start and ended with err.
func (m *SensorMetrics) Fired(trigger string, start time.Time, err error) {
	if m == nil {
		return
	}
	t, ok := m.triggers[trigger]
	if !ok {
		t = m.parent.trigger(m.sensor, trigger)
	}
	t.duration.Observe(sinceMillis(start))
	if err != nil {
		t.failed.Inc()
		return
	}
	t.triggered.Inc()
}
