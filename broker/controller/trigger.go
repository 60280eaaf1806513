package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	eventinglisters "knative.dev/eventing/pkg/client/listers/eventing/v1"
	"knative.dev/pkg/controller"
	"knative.dev/pkg/reconciler"
	"knative.dev/pkg/resolver"

	"github.com/flintevents/flint/broker/controller/dataplane"
	"github.com/flintevents/flint/broker/controller/resources"
	"github.com/flintevents/flint/broker/filter"
	"github.com/flintevents/flint/broker/internal/bus"
)

// Reasons a Trigger is not Ready.
const (
	// ReasonBrokerDoesNotExist: the Trigger's Broker is not in its namespace.
	ReasonBrokerDoesNotExist = "BrokerDoesNotExist"
	// ReasonBrokerNotReady: the Trigger's Broker is not Ready.
	ReasonBrokerNotReady = "BrokerNotReady"
	// ReasonSubscriberResolveFailed: the subscriber reference resolves to no address.
	ReasonSubscriberResolveFailed = "SubscriberResolveFailed"
	// ReasonDeadLetterSinkResolveFailed: the dead-letter sink reference resolves to no address.
	ReasonDeadLetterSinkResolveFailed = "DeadLetterSinkResolveFailed"
	// ReasonInvalidFilter: the Trigger's filter or filters cannot be evaluated.
	ReasonInvalidFilter = "InvalidFilter"
	// ReasonConsumerNotReady: the dispatcher has not created the durable consumer yet.
	ReasonConsumerNotReady = "ConsumerNotReady"
)

var everything = labels.Everything()

// triggerReconciler resolves a Trigger's destinations and watches for its consumer.
type triggerReconciler struct {
	js       jetstream.JetStream
	brokers  eventinglisters.BrokerLister
	resolver *resolver.URIResolver
	recheck  time.Duration
}

// ReconcileKind checks the Trigger's Broker, resolves its subscriber and dead-letter sink
// into status, and marks it Subscribed once its durable consumer exists.
func (r *triggerReconciler) ReconcileKind(ctx context.Context, t *eventingv1.Trigger) reconciler.Event {
	name := dataplane.BrokerOf(t)
	b, err := r.brokers.Brokers(t.Namespace).Get(name)
	switch {
	case apierrs.IsNotFound(err):
		t.Status.MarkBrokerFailed(ReasonBrokerDoesNotExist, "Broker %q does not exist in namespace %q", name, t.Namespace)
		return nil // the Broker's arrival enqueues the Trigger
	case err != nil:
		return fmt.Errorf("getting broker %q: %w", name, err)
	case b.Annotations[dataplane.ClassAnnotation] != BrokerClass:
		return nil // another class's Trigger, seen in a race with its Broker's creation
	}
	if !b.IsReady() {
		msg := "Broker %q is not ready"
		args := []any{name}
		if c := b.Status.GetTopLevelCondition(); c != nil && c.Message != "" {
			msg += ": %s"
			args = append(args, c.Message)
		}
		if c := b.Status.GetTopLevelCondition(); c != nil && c.IsFalse() {
			t.Status.MarkBrokerFailed(ReasonBrokerNotReady, msg, args...)
		} else {
			t.Status.MarkBrokerUnknown(ReasonBrokerNotReady, msg, args...)
		}
		return nil // the Broker's change enqueues the Trigger
	}
	t.Status.PropagateBrokerCondition(b.Status.GetTopLevelCondition())
	t.Status.MarkDependencySucceeded()
	t.Status.MarkOIDCIdentityCreatedNotSupported()

	uri, err := r.resolver.URIFromDestinationV1(ctx, resources.InNamespace(t.Spec.Subscriber, t.Namespace), t)
	if err != nil {
		t.Status.SubscriberURI = nil
		t.Status.MarkSubscriberResolvedFailed(ReasonSubscriberResolveFailed, "resolving spec.subscriber: %v", err)
		return fmt.Errorf("resolving the subscriber of trigger %s/%s: %w", t.Namespace, t.Name, err)
	}
	t.Status.SubscriberURI = uri
	t.Status.MarkSubscriberResolvedSucceeded()

	if dls := resources.DeadLetterSink(t); dls != nil {
		uri, err := r.resolver.URIFromDestinationV1(ctx, *dls, t)
		if err != nil {
			t.Status.DeliveryStatus.DeadLetterSinkURI = nil
			t.Status.MarkDeadLetterSinkResolvedFailed(ReasonDeadLetterSinkResolveFailed, "resolving spec.delivery.deadLetterSink: %v", err)
			return fmt.Errorf("resolving the dead-letter sink of trigger %s/%s: %w", t.Namespace, t.Name, err)
		}
		t.Status.DeliveryStatus.DeadLetterSinkURI = uri
		t.Status.MarkDeadLetterSinkResolvedSucceeded()
	} else if b.Status.DeliveryStatus.DeadLetterSinkURI != nil {
		t.Status.DeliveryStatus = *b.Status.DeliveryStatus.DeepCopy()
		t.Status.MarkDeadLetterSinkResolvedSucceeded()
	} else {
		t.Status.DeliveryStatus.DeadLetterSinkURI = nil
		t.Status.MarkDeadLetterSinkNotConfigured()
	}

	if _, ferr := filter.New(&t.Spec); ferr != nil {
		t.Status.MarkNotSubscribed(ReasonInvalidFilter, "%v", ferr)
		return nil // only a new spec changes this
	}
	stream := bus.StreamName(t.Namespace, name)
	consumer := bus.ConsumerName(t.Namespace, t.Name, string(t.UID))
	_, err = r.js.Consumer(ctx, stream, consumer)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound), errors.Is(err, jetstream.ErrStreamNotFound):
		t.Status.MarkSubscribedUnknown(ReasonConsumerNotReady, "waiting for the dispatcher to create consumer %s on stream %s", consumer, stream)
		return controller.NewRequeueAfter(r.recheck)
	case err != nil:
		t.Status.MarkSubscribedUnknown(ReasonConsumerNotReady, "looking up consumer %s: %v", consumer, err)
		return fmt.Errorf("looking up consumer %s of trigger %s/%s: %w", consumer, t.Namespace, t.Name, err)
	}
	t.GetConditionSet().Manage(&t.Status).MarkTrueWithReason(eventingv1.TriggerConditionSubscribed, "ConsumerReady", "durable consumer %s on stream %s", consumer, stream)
	return nil
}
