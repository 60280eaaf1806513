package controller

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	duckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
	pkgduckv1 "knative.dev/pkg/apis/duck/v1"

	"github.com/flintevents/flint/broker/controller/dataplane"
	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// natsTimeout is generous: the tests run many servers at once on small machines.
const natsTimeout = 10 * time.Second

// Builders of the objects the reconciler tests start from, in Knative's functional-option style.

type brokerOption func(*eventingv1.Broker)

func newBroker(ns, name string, opts ...brokerOption) *eventingv1.Broker {
	b := &eventingv1.Broker{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1,
		Annotations: map[string]string{"eventing.knative.dev/broker.class": BrokerClass}}}
	for _, o := range opts {
		o(b)
	}
	return b
}

func withBrokerClass(class string) brokerOption {
	return func(b *eventingv1.Broker) { b.Annotations["eventing.knative.dev/broker.class"] = class }
}

func withBrokerDeadLetterSink(uri string) brokerOption {
	return func(b *eventingv1.Broker) {
		b.Spec.Delivery = &duckv1.DeliverySpec{DeadLetterSink: &pkgduckv1.Destination{URI: apis.HTTP(uri)}}
	}
}

// withBrokerReady marks every Broker condition True, as the Broker reconciler does.
func withBrokerReady() brokerOption {
	return func(b *eventingv1.Broker) {
		b.Status.InitializeConditions()
		m := b.Status.GetConditionSet().Manage(&b.Status)
		for _, c := range []apis.ConditionType{eventingv1.BrokerConditionIngress, eventingv1.BrokerConditionTriggerChannel,
			eventingv1.BrokerConditionFilter, eventingv1.BrokerConditionDeadLetterSinkResolved, eventingv1.BrokerConditionEventPoliciesReady} {
			m.MarkTrue(c)
		}
		b.Status.SetAddress(&pkgduckv1.Addressable{URL: apis.HTTP("ingress")})
		if b.Spec.Delivery != nil && b.Spec.Delivery.DeadLetterSink != nil {
			b.Status.DeadLetterSinkURI = b.Spec.Delivery.DeadLetterSink.URI
		}
		b.Status.ObservedGeneration = b.Generation
	}
}

func withBrokerStreamFailed(msg string) brokerOption {
	return func(b *eventingv1.Broker) {
		b.Status.InitializeConditions()
		b.Status.GetConditionSet().Manage(&b.Status).MarkFalse(eventingv1.BrokerConditionTriggerChannel, reasonStreamFailed, msg)
		b.Status.ObservedGeneration = b.Generation
	}
}

type triggerOption func(*eventingv1.Trigger)

func newTrigger(ns, name, brokerName string, opts ...triggerOption) *eventingv1.Trigger {
	t := &eventingv1.Trigger{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1, UID: types.UID("uid-" + name)},
		Spec:       eventingv1.TriggerSpec{Broker: brokerName, Subscriber: pkgduckv1.Destination{URI: apis.HTTP("sub." + ns)}},
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

func withCESQL(expr string) triggerOption {
	return func(t *eventingv1.Trigger) {
		t.Spec.Filters = []eventingv1.SubscriptionsAPIFilter{{CESQL: expr}}
	}
}

func withTriggerDeadLetterSink(uri string) triggerOption {
	return func(t *eventingv1.Trigger) {
		t.Spec.Delivery = &duckv1.DeliverySpec{DeadLetterSink: &pkgduckv1.Destination{URI: apis.HTTP(uri)}}
	}
}

func TestReconcileTrigger(t *testing.T) {
	t.Parallel()
	const ns = "team-a"
	tests := []struct {
		name          string
		brokers       []*eventingv1.Broker
		trigger       *eventingv1.Trigger
		consumer      bool   // the dispatcher has created the Trigger's consumer
		wantReady     string // status of the Ready condition
		wantReason    string // of Ready when not True
		wantSub       string
		wantDLS       string
		wantRequeue   bool
		wantErr       bool
		wantUntouched bool
	}{{
		name:       "broker missing",
		trigger:    newTrigger(ns, "t", "absent"),
		wantReady:  "False",
		wantReason: ReasonBrokerDoesNotExist,
	}, {
		name:          "broker of another class",
		brokers:       []*eventingv1.Broker{newBroker(ns, "mt", withBrokerClass("MTChannelBasedBroker"), withBrokerReady())},
		trigger:       newTrigger(ns, "t", "mt"),
		wantUntouched: true,
	}, {
		name:       "broker not reconciled yet",
		brokers:    []*eventingv1.Broker{newBroker(ns, "default")},
		trigger:    newTrigger(ns, "t", "default"),
		wantReady:  "Unknown",
		wantReason: ReasonBrokerNotReady,
	}, {
		name:       "broker failed",
		brokers:    []*eventingv1.Broker{newBroker(ns, "default", withBrokerStreamFailed("no JetStream"))},
		trigger:    newTrigger(ns, "t", "default"),
		wantReady:  "False",
		wantReason: ReasonBrokerNotReady,
	}, {
		name:       "filter that does not parse",
		brokers:    []*eventingv1.Broker{newBroker(ns, "default", withBrokerReady())},
		trigger:    newTrigger(ns, "t", "default", withCESQL("type = = 'x'")),
		wantReady:  "False",
		wantReason: ReasonInvalidFilter,
		wantSub:    "http://sub.team-a",
	}, {
		name:        "waiting for the consumer",
		brokers:     []*eventingv1.Broker{newBroker(ns, "default", withBrokerReady())},
		trigger:     newTrigger(ns, "t", "default"),
		wantReady:   "Unknown",
		wantReason:  ReasonConsumerNotReady,
		wantSub:     "http://sub.team-a",
		wantRequeue: true,
	}, {
		name:      "ready",
		brokers:   []*eventingv1.Broker{newBroker(ns, "default", withBrokerReady())},
		trigger:   newTrigger(ns, "t", "default", withTriggerDeadLetterSink("dls.team-a")),
		consumer:  true,
		wantReady: "True",
		wantSub:   "http://sub.team-a",
		wantDLS:   "http://dls.team-a",
	}, {
		name:      "the broker's dead-letter sink",
		brokers:   []*eventingv1.Broker{newBroker(ns, "default", withBrokerDeadLetterSink("broker-dls.team-a"), withBrokerReady())},
		trigger:   newTrigger(ns, "t", "default"),
		consumer:  true,
		wantReady: "True",
		wantSub:   "http://sub.team-a",
		wantDLS:   "http://broker-dls.team-a",
	}, {
		name:    "subscriber without a host",
		brokers: []*eventingv1.Broker{newBroker(ns, "default", withBrokerReady())},
		trigger: newTrigger(ns, "t", "default", func(t *eventingv1.Trigger) {
			t.Spec.Subscriber = pkgduckv1.Destination{URI: &apis.URL{Path: "/relative"}}
		}),
		wantReady:  "False",
		wantReason: ReasonSubscriberResolveFailed,
		wantErr:    true,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			js, err := jetstream.New(natsdtest.Connect(t, nats.Timeout(natsTimeout)))
			if err != nil {
				t.Fatal(err)
			}
			indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
			for _, b := range tc.brokers {
				if err := indexer.Add(toUnstructured(t, b)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.consumer {
				ctx := t.Context()
				if err := bus.EnsureStream(ctx, js, ns, tc.trigger.Spec.Broker, bus.StreamOptions{}); err != nil {
					t.Fatal(err)
				}
				durable := bus.ConsumerName(ns, tc.trigger.Name, string(tc.trigger.UID))
				if _, err := js.CreateOrUpdateConsumer(ctx, bus.StreamName(ns, tc.trigger.Spec.Broker), jetstream.ConsumerConfig{Durable: durable}); err != nil {
					t.Fatal(err)
				}
			}
			brokers := lister[eventingv1.Broker]{indexer: indexer, resource: dataplane.Brokers.GroupResource()}
			r := &triggerReconciler{js: js, brokers: brokers, resolver: &destinationResolver{}, recheck: time.Second}
			tr := tc.trigger.DeepCopy()
			old := tr.DeepCopy()
			beginReconcile(tr) // as reconcile does first
			event := r.ReconcileKind(t.Context(), tr)
			endReconcile(tr, old, time.Now())

			_, requeue := isRequeue(event)
			if requeue != tc.wantRequeue {
				t.Errorf("requeue = %v (event %v), want %v", requeue, event, tc.wantRequeue)
			}
			if gotErr := event != nil && !requeue; gotErr != tc.wantErr {
				t.Errorf("error = %v, want one: %v", event, tc.wantErr)
			}
			if tc.wantUntouched {
				if tr.Status.GetCondition(eventingv1.TriggerConditionBroker).Status != corev1.ConditionUnknown || tr.Status.SubscriberURI != nil {
					t.Errorf("a trigger of another class was reconciled: %+v", tr.Status)
				}
				return
			}
			ready := tr.Status.GetCondition(apis.ConditionReady)
			if string(ready.Status) != tc.wantReady {
				t.Errorf("Ready = %s (%s: %s), want %s", ready.Status, ready.Reason, ready.Message, tc.wantReady)
			}
			if tc.wantReason != "" && ready.Reason != tc.wantReason {
				t.Errorf("Ready reason = %s (%s), want %s", ready.Reason, ready.Message, tc.wantReason)
			}
			if got := urlString(tr.Status.SubscriberURI); got != tc.wantSub {
				t.Errorf("status.subscriberUri = %q, want %q", got, tc.wantSub)
			}
			if got := urlString(tr.Status.DeadLetterSinkURI); got != tc.wantDLS {
				t.Errorf("status.deadLetterSinkUri = %q, want %q", got, tc.wantDLS)
			}
		})
	}
}

func TestReconcileBroker(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		broker  *eventingv1.Broker
		wantDLS string
	}{
		{"plain", newBroker("team-a", "default"), ""},
		{"dead-letter sink", newBroker("team-a", "orders", withBrokerDeadLetterSink("dls.team-a")), "http://dls.team-a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			js, err := jetstream.New(natsdtest.Connect(t, nats.Timeout(natsTimeout)))
			if err != nil {
				t.Fatal(err)
			}
			r := &brokerReconciler{js: js, ingressHost: "ingress.test", resolver: &destinationResolver{}}
			b := tc.broker.DeepCopy()
			old := b.DeepCopy()
			beginReconcile(b)
			if err := r.ReconcileKind(t.Context(), b); err != nil {
				t.Fatalf("ReconcileKind: %v", err)
			}
			endReconcile(b, old, time.Now())
			if !b.IsReady() {
				t.Errorf("broker not ready: %+v", b.Status.Conditions)
			}
			if want := "http://ingress.test/team-a/" + b.Name; urlString(b.Status.Address.URL) != want {
				t.Errorf("status.address.url = %s, want %s", b.Status.Address.URL, want)
			}
			if got := urlString(b.Status.DeadLetterSinkURI); got != tc.wantDLS {
				t.Errorf("status.deadLetterSinkUri = %q, want %q", got, tc.wantDLS)
			}
			stream := bus.StreamName(b.Namespace, b.Name)
			if _, err := js.Stream(t.Context(), stream); err != nil {
				t.Fatalf("stream %s after ReconcileKind: %v", stream, err)
			}
			for range 2 { // finalizing twice is harmless
				if err := r.FinalizeKind(t.Context(), b); err != nil {
					t.Fatalf("FinalizeKind: %v", err)
				}
			}
			if _, err := js.Stream(t.Context(), stream); !errors.Is(err, jetstream.ErrStreamNotFound) {
				t.Errorf("stream %s after FinalizeKind: err %v, want not found", stream, err)
			}
		})
	}
}

// toUnstructured is obj as a dynamic informer holds it.
func toUnstructured(t *testing.T, obj any) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func urlString(u *apis.URL) string {
	if u == nil {
		return ""
	}
	return u.String()
}
