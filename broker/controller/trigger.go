package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/logging"

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

// kindTrigger names Triggers as owners of references and in logs.
const kindTrigger = "Trigger"

// brokerCheckTimeout bounds the look-up of a Broker the informer does not hold.
const brokerCheckTimeout = 5 * time.Second

// triggerReconciler resolves a Trigger's destinations and watches for its consumer.
type triggerReconciler struct {
	js       jetstream.JetStream
	brokers  lister[eventingv1.Broker]
	resolver *destinationResolver
	recheck  time.Duration

	// What reconcile, which runs ReconcileKind against the cluster, uses.
	triggers      lister[eventingv1.Trigger]
	client        dynamic.NamespaceableResourceInterface
	brokersClient dynamic.NamespaceableResourceInterface
	refs          *tracker
	recorder      record.EventRecorder
}

// reconcile brings the status of the Trigger at key (namespace/name) up to date when
// its Broker is of class flint-jetstream or missing; the Triggers of other classes'
// Brokers are left alone.
func (r *triggerReconciler) reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key of ours
	}
	from := owner{kind: kindTrigger, key: key}
	t, u, err := r.triggers.get(ns, name)
	switch {
	case apierrs.IsNotFound(err):
		r.refs.forget(from)
		return nil
	case err != nil:
		logging.FromContext(ctx).Errorw("reading trigger", zap.Error(err))
		return nil // a new version is enqueued when it arrives
	case t.DeletionTimestamp != nil:
		return nil // the dispatcher deletes its consumer
	case !r.ours(ctx, t):
		r.refs.forget(from)
		return nil
	}

	old := t.DeepCopy()
	beginReconcile(t)
	rerr := r.ReconcileKind(ctx, t)
	endReconcile(t, old, time.Now())
	r.refs.settle(from)
	if _, again := isRequeue(rerr); rerr != nil && !again {
		r.recorder.Event(u, corev1.EventTypeWarning, "InternalError", rerr.Error())
	}
	if !equality.Semantic.DeepEqual(old.Status, t.Status) {
		if err := writeStatus(ctx, r.client, u, &t.Status); err != nil {
			r.recorder.Eventf(u, corev1.EventTypeWarning, "UpdateFailed", "Failed to update status for %q: %v", name, err)
			return errors.Join(rerr, err)
		}
	}
	return rerr
}

// ours reports whether a Trigger is this controller's: its Broker is of class
// flint-jetstream, or missing. A Broker missing from the informer is looked up in the
// cluster too, since a Trigger may be seen before the Broker created just ahead of it.
func (r *triggerReconciler) ours(ctx context.Context, t *eventingv1.Trigger) bool {
	name := dataplane.BrokerOf(t)
	b, _, err := r.brokers.get(t.Namespace, name)
	if err == nil {
		return b.Annotations[dataplane.ClassAnnotation] == BrokerClass
	}
	if !apierrs.IsNotFound(err) {
		return true // unknown: the Trigger is told so
	}
	getCtx, cancel := context.WithTimeout(ctx, brokerCheckTimeout)
	defer cancel()
	u, err := r.brokersClient.Namespace(t.Namespace).Get(getCtx, name, metav1.GetOptions{})
	if err != nil {
		return true // missing (or unknown): the Trigger is told so
	}
	return u.GetAnnotations()[dataplane.ClassAnnotation] == BrokerClass
}

// ReconcileKind checks the Trigger's Broker, resolves its subscriber and dead-letter sink
// into status, and marks it Subscribed once its durable consumer exists; until then it
// asks to be run again after the recheck interval.
func (r *triggerReconciler) ReconcileKind(ctx context.Context, t *eventingv1.Trigger) error {
	name := dataplane.BrokerOf(t)
	b, _, err := r.brokers.get(t.Namespace, name)
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

	from := owner{kind: kindTrigger, key: t.Namespace + "/" + t.Name}
	uri, err := r.resolver.URI(ctx, resources.InNamespace(t.Spec.Subscriber, t.Namespace), from, t.Namespace)
	if err != nil {
		t.Status.SubscriberURI = nil
		t.Status.MarkSubscriberResolvedFailed(ReasonSubscriberResolveFailed, "resolving spec.subscriber: %v", err)
		return fmt.Errorf("resolving the subscriber of trigger %s/%s: %w", t.Namespace, t.Name, err)
	}
	t.Status.SubscriberURI = uri
	t.Status.MarkSubscriberResolvedSucceeded()

	if dls := resources.DeadLetterSink(t); dls != nil {
		uri, err := r.resolver.URI(ctx, *dls, from, t.Namespace)
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
		return requeueAfter(r.recheck)
	case err != nil:
		t.Status.MarkSubscribedUnknown(ReasonConsumerNotReady, "looking up consumer %s: %v", consumer, err)
		return fmt.Errorf("looking up consumer %s of trigger %s/%s: %w", consumer, t.Namespace, t.Name, err)
	}
	t.GetConditionSet().Manage(&t.Status).MarkTrueWithReason(eventingv1.TriggerConditionSubscribed, "ConsumerReady", "durable consumer %s on stream %s", consumer, stream)
	return nil
}
