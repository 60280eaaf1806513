package sensor

import (
	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/metrics"
)

// Instrument makes the function count into reg: the events it handles and
// failed (flint_sensor_events_*) and its trigger firings with Argo Events'
// names (argo_events_action_triggered_total, _failed_total,
// _duration_milliseconds). Call it before the first event.
func (f *Function) Instrument(reg *metrics.Registry, s *v1alpha1.Sensor) {
	names := make([]string, 0, len(s.Spec.Triggers))
	for _, t := range s.Spec.Triggers {
		if t.Template != nil {
			names = append(names, t.Template.Name)
		}
	}
	f.metrics = reg.Sensor.For(s.Name, names...)
}
