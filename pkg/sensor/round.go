package sensor

import (
	"errors"
	"maps"
	"slices"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// ErrFailedRound is wrapped by the error Handle returns for every event that
// reaches a sensor with `errorOnFailedRound` after one of its trigger rounds
// failed: the sensor is in error and processes no further triggers.
var ErrFailedRound = errors.New("a previous trigger round failed and errorOnFailedRound is set: no further triggers are processed")

// roundPolicy is a sensor's `errorOnFailedRound`: once a round (the
// triggers one event fired) fails, every later event is refused, as Argo
// Events documents it. The error state belongs to the engine instance: it
// ends when the sensor restarts, as Argo's ended when its Sensor object was
// recreated. Refused events are answered with an error, so that the broker
// keeps them (redelivery, then its dead-letter sink) rather than losing them.
type roundPolicy struct {
	enabled bool
	failed  atomic.Bool
}

// newRoundPolicy reads `errorOnFailedRound` from the sensor's spec.
func newRoundPolicy(spec *v1alpha1.SensorSpec) *roundPolicy {
	return &roundPolicy{enabled: spec.ErrorOnFailedRound}
}

// admit returns ErrFailedRound when the sensor is in error, nil otherwise.
func (p *roundPolicy) admit() error {
	if p.enabled && p.failed.Load() {
		return ErrFailedRound
	}
	return nil
}

// record notes the outcome of a round; a failure puts the sensor in error
// when the policy is enabled.
func (p *roundPolicy) record(err error) {
	if p.enabled && err != nil {
		p.failed.Store(true)
	}
}

// sensorLogger is the logger of a sensor's log lines: base with the
// sensor's name and its `loggingFields`, in name order.
func sensorLogger(base *zap.Logger, s *v1alpha1.Sensor) *zap.Logger {
	return base.With(append([]zap.Field{zap.String("sensor", s.Name)}, loggingFields(s)...)...)
}

// loggingFields are the sensor's `loggingFields`, in name order; a field
// named "sensor" is left out, since the sensor's name is not overridden.
// Trigger types get a logger with these alone: they name the sensor on
// their lines themselves (Firing.Sensor).
func loggingFields(s *v1alpha1.Sensor) []zap.Field {
	fields := make([]zap.Field, 0, len(s.Spec.LoggingFields))
	for _, k := range slices.Sorted(maps.Keys(s.Spec.LoggingFields)) {
		if k != "sensor" {
			fields = append(fields, zap.String(k, s.Spec.LoggingFields[k]))
		}
	}
	return fields
}
