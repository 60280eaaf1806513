package manifest

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/manifest/argo"
	"github.com/flintevents/flint/pkg/manifest/document"
	"github.com/flintevents/flint/pkg/manifest/knative"
)

// Supported apiVersion and kind values.
const (
	// KnativeEventingAPIVersion is the apiVersion of Knative Broker and Trigger.
	KnativeEventingAPIVersion = knative.EventingAPIVersion
	// KindBroker is the kind of a Knative Broker.
	KindBroker = knative.KindBroker
	// KindTrigger is the kind of a Knative Trigger.
	KindTrigger = knative.KindTrigger
)

// Object is one decoded document; exactly one of the typed pointers is set.
type Object struct {
	Origin Origin
	// APIVersion and Kind are the document's type.
	APIVersion, Kind string

	EventSource *v1alpha1.EventSource
	Sensor      *v1alpha1.Sensor
	Broker      *eventingv1.Broker
	Trigger     *eventingv1.Trigger
}

// Meta returns the object's metadata.
func (o *Object) Meta() *metav1.ObjectMeta {
	switch {
	case o.EventSource != nil:
		return &o.EventSource.ObjectMeta
	case o.Sensor != nil:
		return &o.Sensor.ObjectMeta
	case o.Broker != nil:
		return &o.Broker.ObjectMeta
	case o.Trigger != nil:
		return &o.Trigger.ObjectMeta
	}
	return &metav1.ObjectMeta{}
}

// Name returns metadata.name.
func (o *Object) Name() string { return o.Meta().Name }

// Namespace returns metadata.namespace, "default" when empty.
func (o *Object) Namespace() string { return document.Namespace(o.Meta()) }

// document returns the object as the document it was decoded from.
func (o *Object) document() document.Document {
	return document.Document{Origin: o.Origin, APIVersion: o.APIVersion, Kind: o.Kind, Object: o.Meta()}
}

// kinds are the kinds of documents the manifest package reads.
func kinds() []document.Kind {
	return append(argo.Kinds(), knative.Kinds()...)
}

const expectedKinds = "expected " + argo.Expected + ", " + knative.Expected

// newObject wraps a decoded document.
func newObject(d document.Document) Object {
	o := Object{Origin: d.Origin, APIVersion: d.APIVersion, Kind: d.Kind}
	switch v := d.Object.(type) {
	case *v1alpha1.EventSource:
		o.EventSource = v
	case *v1alpha1.Sensor:
		o.Sensor = v
	case *eventingv1.Broker:
		o.Broker = v
	case *eventingv1.Trigger:
		o.Trigger = v
	}
	return o
}

// Set is the objects read from a list of inputs, in input order (files in the
// order given, directory entries in lexical order, documents in file order).
type Set struct {
	Objects []Object
	// Warnings are the unknown fields of the objects, which Argo's and
	// Knative's CRDs drop: each names its path and, when one is close, the
	// field that was probably meant. Empty when loaded with Strict.
	Warnings Problems
	// Skipped are the documents of other kinds (a WorkflowTemplate, an
	// EventBus, a ConfigMap) that flint does not read.
	Skipped []Skipped
	// Unmatched are the Sensor dependencies whose eventSourceName names none
	// of the EventSources the set holds in the Sensor's namespace, when it
	// holds some there: no event of theirs fires the dependency (in `flint
	// dev` none at all). Each names the EventSource probably meant. A set
	// without EventSources in that namespace has none: its Sensors wait for
	// events of EventSources deployed apart.
	Unmatched Problems
}

// EventSources returns the EventSources of the set, in order.
func (s *Set) EventSources() []*v1alpha1.EventSource {
	var out []*v1alpha1.EventSource
	for i := range s.Objects {
		if es := s.Objects[i].EventSource; es != nil {
			out = append(out, es)
		}
	}
	return out
}

// Sensors returns the Sensors of the set, in order.
func (s *Set) Sensors() []*v1alpha1.Sensor {
	var out []*v1alpha1.Sensor
	for i := range s.Objects {
		if sn := s.Objects[i].Sensor; sn != nil {
			out = append(out, sn)
		}
	}
	return out
}

// Brokers returns the Knative Brokers of the set, in order.
func (s *Set) Brokers() []*eventingv1.Broker {
	var out []*eventingv1.Broker
	for i := range s.Objects {
		if b := s.Objects[i].Broker; b != nil {
			out = append(out, b)
		}
	}
	return out
}

// Triggers returns the Knative Triggers of the set, in order.
func (s *Set) Triggers() []*eventingv1.Trigger {
	var out []*eventingv1.Trigger
	for i := range s.Objects {
		if t := s.Objects[i].Trigger; t != nil {
			out = append(out, t)
		}
	}
	return out
}
