package dataplane_test

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	duckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
	pkgduckv1 "knative.dev/pkg/apis/duck/v1"

	"github.com/flintevents/flint/broker/controller/dataplane"
)

func broker(ns, name, class string, opts ...func(*eventingv1.Broker)) *eventingv1.Broker {
	b := &eventingv1.Broker{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
		Annotations: map[string]string{dataplane.ClassAnnotation: class}}}
	for _, o := range opts {
		o(b)
	}
	return b
}

func trigger(ns, name, brokerName string, opts ...func(*eventingv1.Trigger)) *eventingv1.Trigger {
	t := &eventingv1.Trigger{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: eventingv1.TriggerSpec{Broker: brokerName, Subscriber: pkgduckv1.Destination{URI: apis.HTTP("sub." + ns)}}}
	for _, o := range opts {
		o(t)
	}
	return t
}

var (
	deleting = func(o metav1.Object) { now := metav1.Now(); o.SetDeletionTimestamp(&now) }
	svcRef   = &pkgduckv1.KReference{APIVersion: "v1", Kind: "Service", Name: "sensor"}
)

func TestDesired(t *testing.T) {
	t.Parallel()
	const class = dataplane.Class
	tests := []struct {
		name         string
		brokers      []*eventingv1.Broker
		triggers     []*eventingv1.Trigger
		wantBrokers  []string // namespace/name
		wantTriggers []string // namespace/name -> subscriber|dead-letter sink
	}{{
		name:         "sorted, other classes left out",
		brokers:      []*eventingv1.Broker{broker("b", "x", class), broker("a", "y", class), broker("a", "mt", "MTChannelBasedBroker")},
		triggers:     []*eventingv1.Trigger{trigger("b", "t2", "x"), trigger("a", "t1", "y"), trigger("a", "t3", "mt")},
		wantBrokers:  []string{"a/y", "b/x"},
		wantTriggers: []string{"a/t1 -> http://sub.a|", "b/t2 -> http://sub.b|"},
	}, {
		name:         "a broker being deleted takes its triggers",
		brokers:      []*eventingv1.Broker{broker("a", "gone", class, func(b *eventingv1.Broker) { deleting(b) })},
		triggers:     []*eventingv1.Trigger{trigger("a", "t", "gone")},
		wantBrokers:  nil,
		wantTriggers: nil,
	}, {
		name:         "triggers of missing brokers and triggers being deleted are left out",
		brokers:      []*eventingv1.Broker{broker("a", "b", class)},
		triggers:     []*eventingv1.Trigger{trigger("a", "orphan", "absent"), trigger("a", "bye", "b", func(t *eventingv1.Trigger) { deleting(t) })},
		wantBrokers:  []string{"a/b"},
		wantTriggers: nil,
	}, {
		name:    "subscriber ref: status uri once resolved",
		brokers: []*eventingv1.Broker{broker("a", "b", class)},
		triggers: []*eventingv1.Trigger{
			trigger("a", "resolved", "b", func(t *eventingv1.Trigger) {
				t.Spec.Subscriber = pkgduckv1.Destination{Ref: svcRef}
				t.Status.SubscriberURI = apis.HTTP("sensor.a.svc.cluster.local")
			}),
			trigger("a", "unresolved", "b", func(t *eventingv1.Trigger) { t.Spec.Subscriber = pkgduckv1.Destination{Ref: svcRef} }),
		},
		wantBrokers:  []string{"a/b"},
		wantTriggers: []string{"a/resolved -> http://sensor.a.svc.cluster.local|"},
	}, {
		name:    "subscriber ref with a path: status uri once resolved",
		brokers: []*eventingv1.Broker{broker("a", "b", class)},
		triggers: []*eventingv1.Trigger{
			trigger("a", "resolved", "b", func(t *eventingv1.Trigger) {
				t.Spec.Subscriber = pkgduckv1.Destination{Ref: svcRef, URI: &apis.URL{Path: "/events"}}
				t.Status.SubscriberURI = apis.HTTP("sensor.a.svc.cluster.local")
				t.Status.SubscriberURI.Path = "/events"
			}),
			trigger("a", "unresolved", "b", func(t *eventingv1.Trigger) {
				t.Spec.Subscriber = pkgduckv1.Destination{Ref: svcRef, URI: &apis.URL{Path: "/events"}}
			}),
		},
		wantBrokers:  []string{"a/b"},
		wantTriggers: []string{"a/resolved -> http://sensor.a.svc.cluster.local/events|"},
	}, {
		name: "dead-letter sink refs: status uri, broker's and trigger's",
		brokers: []*eventingv1.Broker{broker("a", "b", class, func(b *eventingv1.Broker) {
			b.Spec.Delivery = &duckv1.DeliverySpec{DeadLetterSink: &pkgduckv1.Destination{Ref: svcRef}}
			b.Status.DeadLetterSinkURI = apis.HTTP("broker-dls.a")
		})},
		triggers: []*eventingv1.Trigger{trigger("a", "t", "b", func(t *eventingv1.Trigger) {
			t.Spec.Delivery = &duckv1.DeliverySpec{DeadLetterSink: &pkgduckv1.Destination{Ref: svcRef}}
			t.Status.DeadLetterSinkURI = apis.HTTP("trigger-dls.a")
		})},
		wantBrokers:  []string{"a/b -> http://broker-dls.a"},
		wantTriggers: []string{"a/t -> http://sub.a|http://trigger-dls.a"},
	}, {
		name:    "brokerRef names the broker",
		brokers: []*eventingv1.Broker{broker("a", "b", class)},
		triggers: []*eventingv1.Trigger{trigger("a", "t", "", func(t *eventingv1.Trigger) {
			t.Spec.BrokerRef = &pkgduckv1.KReference{Name: "b"}
		})},
		wantBrokers:  []string{"a/b"},
		wantTriggers: []string{"a/t -> http://sub.a|"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := make([]*eventingv1.Trigger, len(tc.triggers))
			for i, tr := range tc.triggers {
				before[i] = tr.DeepCopy()
			}
			bs, ts := dataplane.Desired(tc.brokers, tc.triggers)
			var gotB, gotT []string
			for _, b := range bs {
				s := b.Namespace + "/" + b.Name
				if b.Spec.Delivery != nil && b.Spec.Delivery.DeadLetterSink != nil {
					s += " -> " + b.Spec.Delivery.DeadLetterSink.URI.String()
				}
				gotB = append(gotB, s)
			}
			for _, tr := range ts {
				s := tr.Namespace + "/" + tr.Name + " -> " + tr.Spec.Subscriber.URI.String() + "|"
				if tr.Spec.Delivery != nil && tr.Spec.Delivery.DeadLetterSink != nil {
					s += tr.Spec.Delivery.DeadLetterSink.URI.String()
				}
				gotT = append(gotT, s)
			}
			if !slices.Equal(gotB, tc.wantBrokers) {
				t.Errorf("brokers = %q, want %q", gotB, tc.wantBrokers)
			}
			if !slices.Equal(gotT, tc.wantTriggers) {
				t.Errorf("triggers = %q, want %q", gotT, tc.wantTriggers)
			}
			for i, tr := range tc.triggers {
				if tr.Spec.Subscriber.URI.String() != before[i].Spec.Subscriber.URI.String() {
					t.Errorf("trigger %s was modified", tr.Name)
				}
			}
		})
	}
}
