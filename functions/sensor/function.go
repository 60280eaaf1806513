// Package sensor is the kn func runtime of one Sensor: the broker delivers
// each matching event to Handle (or to ServeHTTP, its HTTP edge), which hands
// it to the sensor engine. It answers success only after every trigger the
// event fired succeeded, so the broker redelivers on failure (at-least-once).
package sensor

import (
	"context"
	"fmt"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/sensor"
)

// Function runs one Sensor.
type Function struct {
	engine *sensor.Sensor
}

// New compiles a Sensor with the engine; the error is the engine's
// *apis.FieldError, with every problem and its field path.
func New(s *v1alpha1.Sensor, opts sensor.Options) (*Function, error) {
	eng, err := sensor.New(s, opts)
	if err != nil {
		return nil, fmt.Errorf("sensor %s: %w", s.Name, err)
	}
	return &Function{engine: eng}, nil
}

// Handle processes one delivered event. It returns nil when the event was
// handled (fired, filtered out, or not for this sensor) and an error wrapping
// sensor.ErrTriggerFailed when the event should be redelivered. It never
// returns a reply event.
func (f *Function) Handle(ctx context.Context, ce cloudevents.Event) (*cloudevents.Event, error) {
	return nil, f.engine.Handle(ctx, event.FromCloudEvent(ce))
}

// NotRunnable lists the field paths of the triggers whose type this build
// cannot run (with sensor.Options.AllowNotRunnable), e.g. `spec.triggers[1].template.kafka`.
func (f *Function) NotRunnable() []string { return f.engine.NotRunnable() }

// Close closes the sensor's triggers.
func (f *Function) Close() error { return f.engine.Close() }
