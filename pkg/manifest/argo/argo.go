// Package argo reads Argo Events EventSource and Sensor manifests strictly,
// with the problem format of package document, applies their defaults and
// validates them. It links no Knative Eventing types, so a source image loads
// its EventSource with it alone; pkg/manifest reads the same kinds through it.
package argo

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/manifest/document"
)

// Expected names the kinds this package reads, for unknown-kind problems.
const Expected = "EventSource or Sensor (" + v1alpha1.APIVersion + ")"

// Kinds are the EventSource and Sensor kinds, for a document.Decoder.
func Kinds() []document.Kind {
	return []document.Kind{
		{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.KindEventSource, New: func() metav1.Object { return &v1alpha1.EventSource{} }},
		{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.KindSensor, New: func() metav1.Object { return &v1alpha1.Sensor{} }},
	}
}

// Validate applies the defaults of an EventSource or a Sensor and validates
// it; paths start at the object's root. Other objects pass untouched.
func Validate(ctx context.Context, obj metav1.Object) *apis.FieldError {
	switch o := obj.(type) {
	case *v1alpha1.EventSource:
		o.SetDefaults(ctx)
		return o.Validate(ctx)
	case *v1alpha1.Sensor:
		o.SetDefaults(ctx)
		return o.Validate(ctx)
	}
	return nil
}
