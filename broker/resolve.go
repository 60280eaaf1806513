package broker

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	duckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/broker/dispatcher"
	"github.com/flintevents/flint/broker/filter"
)

// DefaultNamespace is the namespace of objects that name none.
const DefaultNamespace = "default"

// ErrInvalid wraps every reason Apply rejects a Broker or Trigger.
var ErrInvalid = errors.New("invalid broker configuration")

// resolved is the validated desired state of the data plane.
type resolved struct {
	brokers  []resolvedBroker
	triggers []dispatcher.Trigger
}

type resolvedBroker struct {
	namespace, name string
	delivery        *duckv1.DeliverySpec
}

// resolve validates brokers and triggers and turns them into data-plane settings. It
// reports every problem, one line each, naming the object and the field path; every
// line wraps ErrInvalid.
func resolve(brokers []*eventingv1.Broker, triggers []*eventingv1.Trigger, def *duckv1.DeliverySpec) (resolved, error) {
	var out resolved
	var problems []error
	known := make(map[string]*resolvedBroker, len(brokers))
	for _, b := range brokers {
		ns := namespaceOf(b.Namespace)
		key := ns + "/" + b.Name
		errs := checkNames(ns, b.Name)
		if _, dup := known[key]; dup && errs == nil {
			errs = apis.ErrGeneric("defined twice", "metadata.name")
		}
		_, derr := dispatcher.ParseDelivery(b.Spec.Delivery)
		if errs = errs.Also(derr.ViaField("spec", "delivery")); errs != nil {
			problems = append(problems, invalid("broker "+key, errs)...)
			continue
		}
		out.brokers = append(out.brokers, resolvedBroker{namespace: ns, name: b.Name, delivery: b.Spec.Delivery})
		known[key] = &out.brokers[len(out.brokers)-1]
	}
	seen := make(map[string]bool, len(triggers))
	for _, t := range triggers {
		ns := namespaceOf(t.Namespace)
		key := ns + "/" + t.Name
		if seen[key] {
			problems = append(problems, invalid("trigger "+key, apis.ErrGeneric("defined twice", "metadata.name"))...)
			continue
		}
		seen[key] = true
		dt, errs := resolveTrigger(t, ns, known, def)
		if errs != nil {
			problems = append(problems, invalid("trigger "+key, errs)...)
			continue
		}
		out.triggers = append(out.triggers, dt)
	}
	return out, errors.Join(problems...)
}

// resolveTrigger turns a trigger into dispatcher settings, reporting every problem
// with its path in the Trigger.
func resolveTrigger(t *eventingv1.Trigger, ns string, brokers map[string]*resolvedBroker, def *duckv1.DeliverySpec) (dispatcher.Trigger, *apis.FieldError) {
	dt := dispatcher.Trigger{Namespace: ns, Name: t.Name, UID: string(t.UID)}
	errs := checkNames(ns, t.Name)

	var spec *apis.FieldError // problems relative to spec
	brokerName, brokerField := t.Spec.Broker, "broker"
	crossNamespace := false
	if ref := t.Spec.BrokerRef; brokerName == "" && ref != nil {
		brokerName, brokerField = ref.Name, "brokerRef.name"
		if ref.Namespace != "" && ref.Namespace != ns {
			crossNamespace = true
			spec = spec.Also(apis.ErrGeneric("cross-namespace brokers are not supported", "brokerRef.namespace"))
		}
	}
	b, ok := brokers[ns+"/"+brokerName]
	switch {
	case crossNamespace:
	case brokerName == "":
		spec = spec.Also(apis.ErrMissingField("broker"))
	case !ok:
		spec = spec.Also(apis.ErrGeneric(fmt.Sprintf("broker %q not found in namespace %q", brokerName, ns), brokerField))
	}
	dt.Broker = brokerName

	switch sub := t.Spec.Subscriber; {
	case sub.URI == nil && sub.Ref != nil:
		spec = spec.Also(apis.ErrGeneric("a reference cannot be resolved outside a cluster, set spec.subscriber.uri", "subscriber.ref"))
	case sub.URI == nil:
		spec = spec.Also(apis.ErrMissingField("subscriber.uri"))
	default:
		u, err := url.Parse(sub.URI.String())
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			spec = spec.Also(apis.ErrInvalidValue(sub.URI.String(), "subscriber.uri", "must be an absolute http(s) URL"))
		}
		dt.Subscriber = u
	}

	var ferr *apis.FieldError
	dt.Filter, ferr = filter.New(&t.Spec)
	spec = spec.Also(ferr)
	errs = errs.Also(spec.ViaField("spec"))

	// A trigger without delivery options takes its broker's, else the default.
	delivery, field := t.Spec.Delivery, "spec.delivery"
	if dispatcher.IsEmpty(delivery) && ok {
		delivery, field = b.delivery, "broker spec.delivery"
	}
	if dispatcher.IsEmpty(delivery) {
		delivery, field = def, "default delivery"
	}
	var derr *apis.FieldError
	dt.Delivery, derr = dispatcher.ParseDelivery(delivery)
	errs = errs.Also(derr.ViaField(field))
	return dt, errs
}

// invalid turns the problems of one object into errors wrapping ErrInvalid, one per
// path and sorted by path, each reading "<object>: <path>: <message>[; <details>]".
func invalid(object string, fe *apis.FieldError) []error {
	type line struct{ path, reason string }
	var lines []line
	for _, e := range fe.WrappedErrors() {
		reason := e.Message
		if e.Details != "" {
			reason += "; " + strings.Join(strings.Fields(e.Details), " ")
		}
		paths := e.Paths
		if len(paths) == 0 {
			paths = []string{""}
		}
		for _, p := range paths {
			lines = append(lines, line{p, reason})
		}
	}
	slices.SortStableFunc(lines, func(a, b line) int { return strings.Compare(a.path, b.path) })
	errs := make([]error, 0, len(lines))
	for _, l := range lines {
		if l.path == "" {
			errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalid, object, l.reason))
			continue
		}
		errs = append(errs, fmt.Errorf("%w: %s: %s: %s", ErrInvalid, object, l.path, l.reason))
	}
	return errs
}

func namespaceOf(ns string) string {
	if ns == "" {
		return DefaultNamespace
	}
	return ns
}

// checkNames applies the Kubernetes rules for namespace and object names, which also
// keep stream, subject and consumer names well-formed.
func checkNames(ns, name string) *apis.FieldError {
	var errs *apis.FieldError
	if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
		errs = errs.Also(apis.ErrInvalidValue(ns, "namespace", msgs...))
	}
	if name == "" {
		errs = errs.Also(apis.ErrMissingField("name"))
	} else if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		errs = errs.Also(apis.ErrInvalidValue(name, "name", msgs...))
	}
	return errs.ViaField("metadata")
}
