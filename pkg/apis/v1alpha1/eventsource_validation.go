package v1alpha1

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"knative.dev/pkg/apis"
)

// Validate checks an EventSource as Argo Events' controller and source
// validators do; every problem is reported with its field path (spec.…).
func (es *EventSource) Validate(ctx context.Context) *apis.FieldError {
	errs := validateObjectName(es.Name, es.Namespace)
	return errs.Also(es.Spec.Validate(ctx).ViaField("spec"))
}

// Validate checks an EventSourceSpec; paths are relative to the spec.
func (s *EventSourceSpec) Validate(_ context.Context) *apis.FieldError {
	var errs *apis.FieldError
	if s.Replicas != nil && *s.Replicas < 0 {
		errs = errs.Also(apis.ErrInvalidValue(*s.Replicas, "replicas", "must not be negative"))
	}
	keys := s.TypeKeys()
	if len(keys) == 0 {
		return errs.Also(apis.ErrGeneric(
			"expected at least one event source entry under a type key such as webhook, calendar or kafka",
			apis.CurrentField))
	}
	errs = errs.Also(s.validateEventNames(keys))
	for _, t := range eventSourceTypes {
		errs = errs.Also(t.validate(s))
	}
	errs = errs.Also(validateRoutes(s.WebhookBindings()))
	return errs
}

// validateEventNames rejects an event name used under two type keys: sensors
// select events by EventSource and event name alone.
func (s *EventSourceSpec) validateEventNames(keys []string) *apis.FieldError {
	var errs *apis.FieldError
	seen := map[string]string{}
	for _, k := range keys {
		for _, n := range s.EventNames(k) {
			if n == "" {
				errs = errs.Also(apis.ErrInvalidKeyName(n, k, "event name must not be empty"))
				continue
			}
			if other, dup := seen[n]; dup {
				errs = errs.Also(apis.ErrGeneric(
					fmt.Sprintf("duplicate event name %q (also under %s)", n, other), apis.CurrentField).ViaFieldKey(k, n))
				continue
			}
			seen[n] = k
		}
	}
	return errs
}

// validateEntries validates every entry of one type key in name order.
func validateEntries[V any](key string, m map[string]V, fn func(*V) *apis.FieldError) *apis.FieldError {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs *apis.FieldError
	for _, n := range names {
		v := m[n]
		errs = errs.Also(fn(&v).ViaFieldKey(key, n))
	}
	return errs
}

func validateFilter(f *EventSourceFilter) *apis.FieldError {
	if f == nil {
		return nil
	}
	return requireString(f.Expression, "expression").ViaField("filter")
}

// WebhookBinding is one HTTP route served by an entry of a push event source.
type WebhookBinding struct {
	// TypeKey and EventName identify the entry.
	TypeKey, EventName string
	// Port, Endpoint and Method are the entry's route.
	Port, Endpoint, Method string
	// Path is the field path of the route's webhook context, e.g.
	// "spec.webhook[example]" or "spec.github[push].webhook".
	Path string
}

// RouteKey is the port and endpoint of a binding, the unit that must be unique.
func (b WebhookBinding) RouteKey() string {
	return b.Port + " " + b.Endpoint
}

// validateRoutes rejects two entries serving the same port and endpoint.
func validateRoutes(bindings []WebhookBinding) *apis.FieldError {
	var errs *apis.FieldError
	seen := map[string]WebhookBinding{}
	for _, b := range bindings {
		if b.Port == "" || b.Endpoint == "" {
			continue
		}
		if first, dup := seen[b.RouteKey()]; dup {
			errs = errs.Also(apis.ErrGeneric(fmt.Sprintf("port %s and endpoint %s are already served by %s[%s]",
				b.Port, b.Endpoint, first.TypeKey, first.EventName),
				strings.TrimPrefix(b.Path, "spec.")+".endpoint"))
			continue
		}
		seen[b.RouteKey()] = b
	}
	return errs
}
