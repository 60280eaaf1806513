package sourcetest

import (
	"testing"

	"github.com/flintevents/flint/pkg/metrics"
)

// Filtered is what reg counts in flint_eventsource_events_filtered_total, over
// every event source and event name.
func Filtered(t testing.TB, reg *metrics.Registry) float64 {
	t.Helper()
	families, err := reg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() == "flint_eventsource_events_filtered_total" {
			for _, m := range f.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}
