package argo

import (
	"context"
	"fmt"
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/manifest/document"
)

// The Knative Eventing kinds pkg/manifest reads besides these, named here
// without linking Knative Eventing (pkg/manifest's tests hold them equal to
// package knative's).
const (
	knativeAPIVersion = "eventing.knative.dev/v1"
	knativeExpected   = "Broker or Trigger (" + knativeAPIVersion + ")"
)

// knativeKinds stand in for the Broker and Trigger kinds of pkg/manifest: a
// document of either decodes as an unstructured object, so it counts as an
// object, and a near miss of either ("Triger") is a problem, as in
// pkg/manifest; what it holds is not checked.
func knativeKinds() []document.Kind {
	opaque := func() metav1.Object { return &unstructured.Unstructured{} }
	return []document.Kind{
		{APIVersion: knativeAPIVersion, Kind: "Broker", New: opaque},
		{APIVersion: knativeAPIVersion, Kind: "Trigger", New: opaque},
	}
}

// CheckEventSource reads the one EventSource of r, naming r name in problems,
// as pkg/manifest's CheckReader reads it: strictly (an unknown field is a
// problem, with a did-you-mean), skipping documents of kinds flint does not
// read, with defaults applied and validated. Problems of every document come
// in input order. The error is an input error, or, when there are no
// problems, r not holding exactly one object, an EventSource.
func CheckEventSource(ctx context.Context, r io.Reader, name string) (*v1alpha1.EventSource, document.Problems, error) {
	return checkOne[*v1alpha1.EventSource](ctx, r, name, v1alpha1.KindEventSource)
}

// CheckSensor reads the one Sensor of r as CheckEventSource reads an
// EventSource; a sensor function loads its Sensor with it, linking no
// Knative Eventing types.
func CheckSensor(ctx context.Context, r io.Reader, name string) (*v1alpha1.Sensor, document.Problems, error) {
	return checkOne[*v1alpha1.Sensor](ctx, r, name, v1alpha1.KindSensor)
}

// checkOne reads the one object of r, of kind T, strictly, defaulted and validated.
func checkOne[T metav1.Object](ctx context.Context, r io.Reader, name, kind string) (T, document.Problems, error) {
	var zero T
	data, err := io.ReadAll(r)
	if err != nil {
		return zero, nil, fmt.Errorf("reading %s: %w", name, err)
	}
	kinds := append(Kinds(), knativeKinds()...)
	dec := document.NewDecoder("expected "+Expected+", "+knativeExpected, document.Options{Strict: true, SkipOtherKinds: true}, kinds...)
	res := dec.Decode([]document.Input{{Name: name, Data: data}})
	problems := res.Problems
	for _, d := range res.Documents {
		problems = append(problems, document.FieldErrorProblems(d.Origin, Validate(ctx, d.Object))...)
	}
	problems = append(problems, document.DuplicateNames(res.Documents)...)
	if len(problems) > 0 {
		problems.Sort()
		return zero, problems, nil
	}
	if len(res.Documents) == 1 {
		if obj, ok := res.Documents[0].Object.(T); ok {
			return obj, nil, nil
		}
	}
	return zero, nil, fmt.Errorf("%s holds %d objects, want exactly one %s", name, len(res.Documents), kind)
}
