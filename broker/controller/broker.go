package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	eventingduckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/logging"

	"github.com/flintevents/flint/broker/controller/dataplane"
	"github.com/flintevents/flint/broker/controller/resources"
	"github.com/flintevents/flint/broker/internal/bus"
)

// Reasons written into Broker conditions.
const (
	reasonStreamReady         = "StreamReady"
	reasonStreamFailed        = "StreamFailed"
	reasonDeadLetterSinkFails = "DeadLetterSinkResolveFailed"
)

// kindBroker names Brokers as owners of references and in logs.
const kindBroker = "Broker"

// brokerReconciler ensures a Broker's JetStream stream and writes its status; its
// finalizer deletes the stream.
type brokerReconciler struct {
	js          jetstream.JetStream
	ingressHost string
	streams     bus.StreamOptions
	resolver    *destinationResolver

	// What reconcile, which runs ReconcileKind and FinalizeKind against the cluster, uses.
	brokers  lister[eventingv1.Broker]
	client   dynamic.NamespaceableResourceInterface
	refs     *tracker
	recorder record.EventRecorder
}

// reconcile brings the Broker at key (namespace/name) to its desired state: it adds
// the finalizer, runs ReconcileKind and writes the status when it changed; a Broker
// being deleted is finalized, then let go.
func (r *brokerReconciler) reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key of ours
	}
	from := owner{kind: kindBroker, key: key}
	b, u, err := r.brokers.get(ns, name)
	switch {
	case apierrs.IsNotFound(err):
		r.refs.forget(from)
		return nil
	case err != nil:
		logging.FromContext(ctx).Errorw("reading broker", zap.Error(err))
		return nil // a new version is enqueued when it arrives
	case b.Annotations[dataplane.ClassAnnotation] != BrokerClass:
		r.refs.forget(from)
		return nil
	}
	if b.DeletionTimestamp != nil {
		r.refs.forget(from)
		return r.finalize(ctx, b, u)
	}
	if !slices.Contains(b.Finalizers, FinalizerName) {
		if u, err = setFinalizer(ctx, r.client, u, FinalizerName, true); err != nil {
			return err
		}
		r.recorder.Eventf(u, corev1.EventTypeNormal, "FinalizerUpdate", "Added finalizer %q", FinalizerName)
	}

	old := b.DeepCopy()
	beginReconcile(b)
	rerr := r.ReconcileKind(ctx, b)
	endReconcile(b, old, time.Now())
	r.refs.settle(from)
	if rerr != nil {
		r.recorder.Event(u, corev1.EventTypeWarning, "InternalError", rerr.Error())
	}
	if !equality.Semantic.DeepEqual(old.Status, b.Status) {
		if err := writeStatus(ctx, r.client, u, &b.Status); err != nil {
			r.recorder.Eventf(u, corev1.EventTypeWarning, "UpdateFailed", "Failed to update status for %q: %v", name, err)
			return errors.Join(rerr, err)
		}
	}
	return rerr
}

// finalize deletes the stream of a Broker being deleted, then removes the finalizer.
func (r *brokerReconciler) finalize(ctx context.Context, b *eventingv1.Broker, u *unstructured.Unstructured) error {
	if !slices.Contains(b.Finalizers, FinalizerName) {
		return nil
	}
	if err := r.FinalizeKind(ctx, b); err != nil {
		r.recorder.Event(u, corev1.EventTypeWarning, "InternalError", err.Error())
		return err
	}
	if _, err := setFinalizer(ctx, r.client, u, FinalizerName, false); err != nil {
		return err
	}
	r.recorder.Eventf(u, corev1.EventTypeNormal, "FinalizerUpdate", "Removed finalizer %q", FinalizerName)
	return nil
}

// ReconcileKind ensures the Broker's stream, resolves its dead-letter sink and publishes
// its ingress address.
func (r *brokerReconciler) ReconcileKind(ctx context.Context, b *eventingv1.Broker) error {
	logger := logging.FromContext(ctx)
	conds := b.Status.GetConditionSet().Manage(&b.Status)
	stream := bus.StreamName(b.Namespace, b.Name)
	err := bus.EnsureStream(ctx, r.js, b.Namespace, b.Name, r.streams)
	if err == nil {
		err = bus.EnsureDeadLetterStream(ctx, r.js, b.Namespace, b.Name, r.streams)
	}
	if err != nil {
		conds.MarkFalse(eventingv1.BrokerConditionTriggerChannel, reasonStreamFailed, "%v", err)
		logger.Errorw("ensuring broker stream", zap.String("stream", stream), zap.Error(err))
		return fmt.Errorf("reconciling broker %s/%s: %w", b.Namespace, b.Name, err)
	}
	conds.MarkTrueWithReason(eventingv1.BrokerConditionTriggerChannel, reasonStreamReady, "JetStream stream %s", stream)
	conds.MarkTrue(eventingv1.BrokerConditionIngress)
	conds.MarkTrue(eventingv1.BrokerConditionFilter)
	b.Status.MarkEventPoliciesTrueWithReason("EventPoliciesNotEnforced", "the %s ingress accepts every well-formed event", BrokerClass)

	if dls := resources.BrokerDeadLetterSink(b); dls != nil {
		uri, err := r.resolver.URI(ctx, *dls, owner{kind: kindBroker, key: b.Namespace + "/" + b.Name}, b.Namespace)
		if err != nil {
			b.Status.MarkDeadLetterSinkResolvedFailed(reasonDeadLetterSinkFails, "resolving spec.delivery.deadLetterSink: %v", err)
			b.Status.SetAddress(nil)
			return fmt.Errorf("resolving the dead-letter sink of broker %s/%s: %w", b.Namespace, b.Name, err)
		}
		b.Status.MarkDeadLetterSinkResolvedSucceeded(eventingduckv1.DeliveryStatus{DeadLetterSinkURI: uri})
	} else {
		b.Status.MarkDeadLetterSinkNotConfigured()
	}
	b.Status.SetAddress(resources.Address(r.ingressHost, b.Namespace, b.Name))
	return nil
}

// FinalizeKind deletes the Broker's stream, and with it the events it holds and the
// consumers of its Triggers, and its dead-letter stream.
func (r *brokerReconciler) FinalizeKind(ctx context.Context, b *eventingv1.Broker) error {
	for _, stream := range []string{bus.StreamName(b.Namespace, b.Name), bus.DeadLetterStreamName(b.Namespace, b.Name)} {
		if err := r.js.DeleteStream(ctx, stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			logging.FromContext(ctx).Errorw("deleting broker stream", zap.String("stream", stream), zap.Error(err))
			return fmt.Errorf("deleting stream %s of broker %s/%s: %w", stream, b.Namespace, b.Name, err)
		}
		logging.FromContext(ctx).Infow("deleted broker stream", zap.String("stream", stream))
	}
	return nil
}
