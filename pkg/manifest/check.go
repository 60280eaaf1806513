package manifest

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/manifest/argo"
	"github.com/flintevents/flint/pkg/manifest/document"
	"github.com/flintevents/flint/pkg/manifest/knative"
)

// Check applies defaults to every EventSource and Sensor, validates every
// object and the set as a whole, and returns the problems in input order.
// Across objects it reports a kind/namespace/name defined twice, two
// EventSources serving the same webhook port and endpoint, and a Sensor
// dependency naming an event that an EventSource of the set does not define.
// Knative Brokers and Triggers are validated as written (no defaults). An
// object that needs exactly one of several type keys and has none (a trigger
// template with `openwhisk:` for `openWhisk:`) is a problem that names its
// unknown fields and what they probably meant; those leave s.Warnings.
// Check also sets s.Unmatched.
func (s *Set) Check(ctx context.Context) Problems {
	var problems Problems
	for i := range s.Objects {
		o := &s.Objects[i]
		problems = append(problems, document.FieldErrorProblems(o.Origin, o.validate(ctx))...)
	}
	s.Warnings = explainMissingType(problems, s.Warnings)
	problems = append(problems, s.duplicateNames()...)
	problems = append(problems, s.sharedRoutes()...)
	problems = append(problems, s.unknownEvents()...)
	problems.Sort()
	s.Unmatched = s.unmatchedSources()
	return problems
}

func (o *Object) validate(ctx context.Context) *apis.FieldError {
	switch {
	case o.EventSource != nil:
		return argo.Validate(ctx, o.EventSource)
	case o.Sensor != nil:
		return argo.Validate(ctx, o.Sensor)
	case o.Broker != nil:
		return knative.Validate(ctx, o.Broker)
	case o.Trigger != nil:
		return knative.Validate(ctx, o.Trigger)
	}
	return nil
}

// duplicateNames reports every object whose kind, namespace and name an
// earlier object already has.
func (s *Set) duplicateNames() Problems {
	docs := make([]document.Document, len(s.Objects))
	for i := range s.Objects {
		docs[i] = s.Objects[i].document()
	}
	return document.DuplicateNames(docs)
}

// sharedRoutes reports a webhook port and endpoint that two EventSources
// serve: in one process (`flint dev`) only one of them could receive.
func (s *Set) sharedRoutes() Problems {
	type owner struct {
		obj     *Object
		binding v1alpha1.WebhookBinding
	}
	var problems Problems
	first := map[string]owner{}
	for i := range s.Objects {
		o := &s.Objects[i]
		if o.EventSource == nil {
			continue
		}
		for _, b := range o.EventSource.Spec.WebhookBindings() {
			if b.Port == "" || b.Endpoint == "" {
				continue
			}
			prev, dup := first[b.RouteKey()]
			if !dup {
				first[b.RouteKey()] = owner{o, b}
				continue
			}
			if prev.obj == o {
				continue // reported by the EventSource's own validation
			}
			problems = append(problems, o.Origin.Problem(b.Path+".endpoint",
				fmt.Sprintf("port %s and endpoint %s are already served by EventSource %q (%s[%s], %s)",
					b.Port, b.Endpoint, prev.obj.Name(), prev.binding.TypeKey, prev.binding.EventName, prev.obj.Origin)))
		}
	}
	return problems
}

// unknownEvents reports a dependency on an EventSource of the set (same
// namespace) that does not define the event name.
func (s *Set) unknownEvents() Problems {
	sources := map[string]*v1alpha1.EventSource{}
	for i := range s.Objects {
		if es := s.Objects[i].EventSource; es != nil {
			sources[s.Objects[i].Namespace()+"/"+es.Name] = es
		}
	}
	var problems Problems
	for i := range s.Objects {
		o := &s.Objects[i]
		if o.Sensor == nil {
			continue
		}
		for j, d := range o.Sensor.Spec.Dependencies {
			es, ok := sources[o.Namespace()+"/"+d.EventSourceName]
			if !ok || d.EventName == "" || es.Spec.TypeOf(d.EventName) != "" {
				continue
			}
			var names []string
			for _, k := range es.Spec.TypeKeys() {
				names = append(names, es.Spec.EventNames(k)...)
			}
			reason := fmt.Sprintf("EventSource %q has no event %q (it has %s)", es.Name, d.EventName, strings.Join(names, ", "))
			if best := document.DidYouMean(d.EventName, names); best != "" {
				reason += fmt.Sprintf("; did you mean %q?", best)
			}
			problems = append(problems, o.Origin.Problem(fmt.Sprintf("spec.dependencies[%d].eventName", j), reason))
		}
	}
	return problems
}

// unmatchedSources reports a dependency whose eventSourceName is none of the
// EventSources of the set in the Sensor's namespace, when there are some,
// with the closest of their names.
func (s *Set) unmatchedSources() Problems {
	names := map[string][]string{} // namespace → EventSource names, in input order
	for i := range s.Objects {
		if es := s.Objects[i].EventSource; es != nil {
			ns := s.Objects[i].Namespace()
			if !slices.Contains(names[ns], es.Name) { // a duplicate is a problem of its own
				names[ns] = append(names[ns], es.Name)
			}
		}
	}
	var unmatched Problems
	for i := range s.Objects {
		o := &s.Objects[i]
		if o.Sensor == nil {
			continue
		}
		ns := o.Namespace()
		loaded := names[ns]
		if len(loaded) == 0 {
			continue
		}
		for j, d := range o.Sensor.Spec.Dependencies {
			if d.EventSourceName == "" || slices.Contains(loaded, d.EventSourceName) {
				continue
			}
			reason := fmt.Sprintf("EventSource %q is not among those loaded in namespace %q (%s): none of their events fires this dependency",
				d.EventSourceName, ns, strings.Join(loaded, ", "))
			if best := document.DidYouMean(d.EventSourceName, loaded); best != "" {
				reason += fmt.Sprintf("; did you mean %q?", best)
			}
			unmatched = append(unmatched, o.Origin.Problem(fmt.Sprintf("spec.dependencies[%d].eventSourceName", j), reason))
		}
	}
	return unmatched
}

// explainMissingType adds to each "expected exactly one of …, got none"
// problem the unknown fields found right under its path, which are the type
// keys that were probably meant, and returns the warnings left.
func explainMissingType(problems, warnings Problems) Problems {
	kept := warnings[:0:0]
	for _, w := range warnings {
		merged := false
		for i := range problems {
			p := &problems[i]
			if p.Location() != w.Location() || !strings.HasPrefix(p.Reason, "expected exactly one of ") ||
				!strings.HasSuffix(p.Reason, "got none") {
				continue
			}
			key, ok := strings.CutPrefix(w.Path, p.Path+".")
			if !ok || strings.ContainsAny(key, ".[") {
				continue
			}
			p.Reason += "; " + key + ": " + w.Reason
			merged = true
		}
		if !merged {
			kept = append(kept, w)
		}
	}
	return kept
}
