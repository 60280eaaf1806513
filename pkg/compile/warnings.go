package compile

import (
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// SensorWarnings are the warnings `flint compile` prints for Sensor s, with
// paths in s: triggers that may outlast the request timeout of its function
// (TimeoutWarnings) and a serviceAccountName its function does not run as
// (ServiceAccountWarnings). It is nil when there are none.
func SensorWarnings(s *v1alpha1.Sensor) *apis.FieldError {
	return TimeoutWarnings(s).Also(ServiceAccountWarnings(s))
}
