// Package v1alpha1 holds the Argo Events `argoproj.io/v1alpha1` EventSource and
// Sensor types as flint reads them: Go names, fields and JSON tags follow Argo
// Events v1.9 so that its YAML decodes unchanged, plus defaults and validation
// with knative-style field paths.
package v1alpha1

const (
	// Group is the API group of EventSource and Sensor.
	Group = "argoproj.io"
	// Version is the API version of EventSource and Sensor.
	Version = "v1alpha1"
	// APIVersion is the apiVersion value the YAML carries.
	APIVersion = Group + "/" + Version
	// KindEventSource is the kind of an EventSource object.
	KindEventSource = "EventSource"
	// KindSensor is the kind of a Sensor object.
	KindSensor = "Sensor"
	// DefaultEventBusName is the event bus an object uses when it names none.
	DefaultEventBusName = "default"
)
