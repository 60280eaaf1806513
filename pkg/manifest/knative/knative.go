// Package knative reads Knative Eventing Broker and Trigger manifests
// strictly, with the problem format of package document, and validates them.
// It links no Argo Events types, so the broker data plane can load its
// configuration with it alone.
package knative

import (
	"context"
	"errors"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/manifest/document"
)

// Supported apiVersion and kind values.
const (
	// EventingAPIVersion is the apiVersion of Knative Broker and Trigger.
	EventingAPIVersion = "eventing.knative.dev/v1"
	// KindBroker is the kind of a Knative Broker.
	KindBroker = "Broker"
	// KindTrigger is the kind of a Knative Trigger.
	KindTrigger = "Trigger"
	// Expected names the kinds this package reads, for unknown-kind problems.
	Expected = "Broker or Trigger (" + EventingAPIVersion + ")"
)

// Kinds are the Broker and Trigger kinds, for a document.Decoder.
func Kinds() []document.Kind {
	return []document.Kind{
		{APIVersion: EventingAPIVersion, Kind: KindBroker, New: func() metav1.Object { return &eventingv1.Broker{} }},
		{APIVersion: EventingAPIVersion, Kind: KindTrigger, New: func() metav1.Object { return &eventingv1.Trigger{} }},
	}
}

// Validate checks a Broker or Trigger as written (no defaults); paths start
// at the object's root. The Broker class annotation is flint's to choose, so
// only a Broker's name and spec are checked. Other objects pass.
func Validate(ctx context.Context, obj metav1.Object) *apis.FieldError {
	switch o := obj.(type) {
	case *eventingv1.Broker:
		return requireName(o.Name).Also(o.Spec.Validate(ctx).ViaField("spec"))
	case *eventingv1.Trigger:
		return requireName(o.Name).Also(o.Validate(ctx))
	}
	return nil
}

func requireName(name string) *apis.FieldError {
	if name == "" {
		return apis.ErrMissingField("metadata.name")
	}
	return nil
}

// Set is the Brokers and Triggers read from a list of inputs, in input order.
type Set struct {
	Brokers  []*eventingv1.Broker
	Triggers []*eventingv1.Trigger
}

// Load reads the manifests at paths (see document.Reader.Read), decodes
// them strictly as Brokers and Triggers, validates each and the set (no
// kind/namespace/name twice) and returns every problem in input order. The
// error is an input error only (missing file, unreadable stdin); any other
// kind of document is a problem.
func Load(ctx context.Context, r document.Reader, paths ...string) (*Set, document.Problems, error) {
	inputs, err := r.Read(paths...)
	if err != nil {
		return nil, nil, err
	}
	res := document.NewDecoder("expected "+Expected, document.Options{Strict: true}, Kinds()...).Decode(inputs)
	docs, problems := res.Documents, res.Problems
	set := &Set{}
	for _, d := range docs {
		problems = append(problems, document.FieldErrorProblems(d.Origin, Validate(ctx, d.Object))...)
		switch o := d.Object.(type) {
		case *eventingv1.Broker:
			set.Brokers = append(set.Brokers, o)
		case *eventingv1.Trigger:
			set.Triggers = append(set.Triggers, o)
		default:
			return nil, nil, errors.New("decoding manifests: unexpected object type")
		}
	}
	problems = append(problems, document.DuplicateNames(docs)...)
	problems.Sort()
	return set, problems, nil
}
