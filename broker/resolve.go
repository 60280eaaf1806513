package broker

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	duckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"

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
// reports every problem, each naming the object and field.
func resolve(brokers []*eventingv1.Broker, triggers []*eventingv1.Trigger, def *duckv1.DeliverySpec) (resolved, error) {
	var out resolved
	var errs []error
	known := make(map[string]*resolvedBroker, len(brokers))
	for _, b := range brokers {
		ns := namespaceOf(b.Namespace)
		where := fmt.Sprintf("broker %s/%s", ns, b.Name)
		if err := checkNames(ns, b.Name); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrInvalid, where, err))
			continue
		}
		if _, dup := known[ns+"/"+b.Name]; dup {
			errs = append(errs, fmt.Errorf("%w: %s: defined twice", ErrInvalid, where))
			continue
		}
		if _, err := dispatcher.ParseDelivery(b.Spec.Delivery); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: spec.delivery.%w", ErrInvalid, where, err))
			continue
		}
		out.brokers = append(out.brokers, resolvedBroker{namespace: ns, name: b.Name, delivery: b.Spec.Delivery})
		known[ns+"/"+b.Name] = &out.brokers[len(out.brokers)-1]
	}
	seen := make(map[string]bool, len(triggers))
	for _, t := range triggers {
		ns := namespaceOf(t.Namespace)
		where := fmt.Sprintf("trigger %s/%s", ns, t.Name)
		if seen[ns+"/"+t.Name] {
			errs = append(errs, fmt.Errorf("%w: %s: defined twice", ErrInvalid, where))
			continue
		}
		seen[ns+"/"+t.Name] = true
		dt, err := resolveTrigger(t, ns, known, def)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrInvalid, where, err))
			continue
		}
		out.triggers = append(out.triggers, dt)
	}
	return out, errors.Join(errs...)
}

func resolveTrigger(t *eventingv1.Trigger, ns string, brokers map[string]*resolvedBroker, def *duckv1.DeliverySpec) (dispatcher.Trigger, error) {
	dt := dispatcher.Trigger{Namespace: ns, Name: t.Name, UID: string(t.UID)}
	if err := checkNames(ns, t.Name); err != nil {
		return dt, err
	}
	brokerName := t.Spec.Broker
	if ref := t.Spec.BrokerRef; brokerName == "" && ref != nil {
		if ref.Namespace != "" && ref.Namespace != ns {
			return dt, fmt.Errorf("spec.brokerRef.namespace: cross-namespace brokers are not supported")
		}
		brokerName = ref.Name
	}
	if brokerName == "" {
		return dt, fmt.Errorf("spec.broker: missing")
	}
	b, ok := brokers[ns+"/"+brokerName]
	if !ok {
		return dt, fmt.Errorf("spec.broker: broker %q not found in namespace %q", brokerName, ns)
	}
	dt.Broker = brokerName

	sub := t.Spec.Subscriber
	if sub.URI == nil {
		if sub.Ref != nil {
			return dt, fmt.Errorf("spec.subscriber.ref: a reference cannot be resolved outside a cluster, set spec.subscriber.uri")
		}
		return dt, fmt.Errorf("spec.subscriber.uri: missing")
	}
	u, err := url.Parse(sub.URI.String())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return dt, fmt.Errorf("spec.subscriber.uri: %q is not an absolute http(s) URL", sub.URI.String())
	}
	dt.Subscriber = u

	if dt.Filter, err = filter.New(&t.Spec); err != nil {
		return dt, fmt.Errorf("spec.%w", err)
	}

	spec, field := t.Spec.Delivery, "spec.delivery"
	if dispatcher.IsEmpty(spec) {
		spec, field = b.delivery, "broker spec.delivery"
	}
	if dispatcher.IsEmpty(spec) {
		spec, field = def, "default delivery"
	}
	if dt.Delivery, err = dispatcher.ParseDelivery(spec); err != nil {
		return dt, fmt.Errorf("%s.%w", field, err)
	}
	return dt, nil
}

func namespaceOf(ns string) string {
	if ns == "" {
		return DefaultNamespace
	}
	return ns
}

// checkNames applies the Kubernetes rules for namespace and object names, which also
// keep stream, subject and consumer names well-formed.
func checkNames(ns, name string) error {
	if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
		return fmt.Errorf("metadata.namespace: %q: %s", ns, strings.Join(msgs, "; "))
	}
	if name == "" {
		return fmt.Errorf("metadata.name: missing")
	}
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return fmt.Errorf("metadata.name: %q: %s", name, strings.Join(msgs, "; "))
	}
	return nil
}
