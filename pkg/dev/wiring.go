package dev

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	eventingduckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	"knative.dev/pkg/ptr"

	fsensor "github.com/flintevents/flint/functions/sensor"
	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/sink"
	"github.com/flintevents/flint/triggers"
)

const defaultName = "default"

// sensorFn is one Sensor function and the broker it listens on.
type sensorFn struct {
	spec *v1alpha1.Sensor
	fn   *fsensor.Function
}

func (s sensorFn) path() string { return "/" + namespace(s.spec.Namespace) + "/" + s.spec.Name }

func buildSensors(specs []*v1alpha1.Sensor, secrets secret.Resolver, log *zap.Logger) ([]sensorFn, error) {
	out := make([]sensorFn, 0, len(specs))
	for _, s := range specs {
		fn, err := fsensor.New(s, triggers.Deps{Logger: log.Named("sensor").Sugar(), Secrets: secrets})
		if err != nil {
			return nil, err
		}
		out = append(out, sensorFn{spec: s, fn: fn})
	}
	return out, nil
}

// source is one adapter of one EventSource type key.
type source struct {
	es  *v1alpha1.EventSource
	key string
	src sources.Source
}

// run emits through the broker ingress of the EventSource's event bus.
func (s source) run(ctx context.Context, ingressBase string) error {
	url := ingressBase + "/" + namespace(s.es.Namespace) + "/" + busName(s.es.Spec.EventBusName)
	emit, err := sink.New(url)
	if err != nil {
		return fmt.Errorf("eventsource %s: %w", s.es.Name, err)
	}
	if err := s.src.Run(ctx, emit.Emit); err != nil {
		return fmt.Errorf("eventsource %s: spec.%s: %w", s.es.Name, s.key, err)
	}
	return nil
}

func buildSources(specs []*v1alpha1.EventSource, secrets secret.Resolver, log *zap.Logger) ([]source, error) {
	var out []source
	for _, es := range specs {
		for _, key := range es.Spec.TypeKeys() {
			factory, ok := sources.Lookup(key)
			if !ok {
				return nil, fmt.Errorf("eventsource %s: spec.%s: event source type %q is not supported yet (supported: %s)",
					es.Name, key, key, strings.Join(sources.Keys(), ", "))
			}
			src, err := factory(es, sources.Deps{Logger: log.Named("eventsource").Sugar(), Secrets: secrets})
			if err != nil {
				return nil, fmt.Errorf("eventsource %s: spec.%s: %w", es.Name, key, err)
			}
			out = append(out, source{es: es, key: key, src: src})
		}
	}
	return out, nil
}

// sensorMux routes each sensor's deliveries to its function at /<namespace>/<name>.
func sensorMux(sensors []sensorFn) http.Handler {
	mux := http.NewServeMux()
	for _, s := range sensors {
		mux.Handle(s.path(), s.fn)
	}
	return mux
}

// sensorTriggers are the Knative Triggers that feed each sensor: one per
// distinct (EventSource, event name) pair its dependencies wait for, filtering
// on the CloudEvent source and subject.
func sensorTriggers(sensors []sensorFn, base string) []*eventingv1.Trigger {
	var out []*eventingv1.Trigger
	for _, s := range sensors {
		seen := map[[2]string]bool{}
		uri, _ := apis.ParseURL(base + s.path())
		for _, d := range s.spec.Spec.Dependencies {
			pair := [2]string{d.EventSourceName, d.EventName}
			if seen[pair] {
				continue
			}
			seen[pair] = true
			out = append(out, &eventingv1.Trigger{
				TypeMeta:   metav1.TypeMeta{APIVersion: "eventing.knative.dev/v1", Kind: "Trigger"},
				ObjectMeta: metav1.ObjectMeta{Name: s.spec.Name + "-" + d.Name, Namespace: namespace(s.spec.Namespace)},
				Spec: eventingv1.TriggerSpec{
					Broker: busName(s.spec.Spec.EventBusName),
					Filter: &eventingv1.TriggerFilter{Attributes: eventingv1.TriggerFilterAttributes{
						"source":  d.EventSourceName,
						"subject": d.EventName,
					}},
					Subscriber: duckv1.Destination{URI: uri},
					Delivery: &eventingduckv1.DeliverySpec{
						// A sensor answers after its triggers ran (an http trigger
						// waits 60 s by default, retryStrategy more), so an attempt
						// may take as long as a Knative revision allows.
						Timeout:       ptr.String("PT5M"),
						Retry:         ptr.Int32(5),
						BackoffPolicy: ptrBackoff(eventingduckv1.BackoffPolicyExponential),
						BackoffDelay:  ptr.String("PT0.2S"),
					},
				},
			})
		}
	}
	return out
}

func ptrBackoff(p eventingduckv1.BackoffPolicyType) *eventingduckv1.BackoffPolicyType { return &p }

// defaultBrokerRefs lists the namespace/name of every broker an EventSource or
// Sensor uses through eventBusName.
func defaultBrokerRefs(objs Objects) [][2]string {
	set := map[[2]string]bool{{defaultName, defaultName}: true}
	for _, es := range objs.EventSources {
		set[[2]string{namespace(es.Namespace), busName(es.Spec.EventBusName)}] = true
	}
	for _, s := range objs.Sensors {
		set[[2]string{namespace(s.Namespace), busName(s.Spec.EventBusName)}] = true
	}
	refs := make([][2]string, 0, len(set))
	for r := range set {
		refs = append(refs, r)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i][0]+"/"+refs[i][1] < refs[j][0]+"/"+refs[j][1] })
	return refs
}

// withImplicitBrokers returns the declared brokers plus one for every
// referenced broker that no manifest declares.
func withImplicitBrokers(objs Objects, refs [][2]string) []*eventingv1.Broker {
	out := append([]*eventingv1.Broker(nil), objs.Brokers...)
	have := map[[2]string]bool{}
	for _, b := range objs.Brokers {
		have[[2]string{namespace(b.Namespace), b.Name}] = true
	}
	for _, r := range refs {
		if have[r] {
			continue
		}
		out = append(out, &eventingv1.Broker{
			TypeMeta:   metav1.TypeMeta{APIVersion: "eventing.knative.dev/v1", Kind: "Broker"},
			ObjectMeta: metav1.ObjectMeta{Namespace: r[0], Name: r[1]},
		})
	}
	return out
}

func namespace(ns string) string {
	if ns == "" {
		return defaultName
	}
	return ns
}

func busName(name string) string {
	if name == "" {
		return defaultName
	}
	return name
}
