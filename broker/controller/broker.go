package controller

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	eventingduckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/logging"
	"knative.dev/pkg/reconciler"
	"knative.dev/pkg/resolver"

	"github.com/flintevents/flint/broker/controller/resources"
	"github.com/flintevents/flint/broker/internal/bus"
)

// Reasons written into Broker conditions.
const (
	reasonStreamReady         = "StreamReady"
	reasonStreamFailed        = "StreamFailed"
	reasonDeadLetterSinkFails = "DeadLetterSinkResolveFailed"
)

// brokerReconciler ensures a Broker's JetStream stream and writes its status.
type brokerReconciler struct {
	js          jetstream.JetStream
	ingressHost string
	streams     bus.StreamOptions
	resolver    *resolver.URIResolver
}

// ReconcileKind ensures the Broker's stream, resolves its dead-letter sink and publishes
// its ingress address.
func (r *brokerReconciler) ReconcileKind(ctx context.Context, b *eventingv1.Broker) reconciler.Event {
	logger := logging.FromContext(ctx)
	conds := b.Status.GetConditionSet().Manage(&b.Status)
	stream := bus.StreamName(b.Namespace, b.Name)
	if err := bus.EnsureStream(ctx, r.js, b.Namespace, b.Name, r.streams); err != nil {
		conds.MarkFalse(eventingv1.BrokerConditionTriggerChannel, reasonStreamFailed, "%v", err)
		logger.Errorw("ensuring broker stream", zap.String("stream", stream), zap.Error(err))
		return fmt.Errorf("reconciling broker %s/%s: %w", b.Namespace, b.Name, err)
	}
	conds.MarkTrueWithReason(eventingv1.BrokerConditionTriggerChannel, reasonStreamReady, "JetStream stream %s", stream)
	conds.MarkTrue(eventingv1.BrokerConditionIngress)
	conds.MarkTrue(eventingv1.BrokerConditionFilter)
	b.Status.MarkEventPoliciesTrueWithReason("EventPoliciesNotEnforced", "the %s ingress accepts every well-formed event", BrokerClass)

	if dls := resources.BrokerDeadLetterSink(b); dls != nil {
		uri, err := r.resolver.URIFromDestinationV1(ctx, *dls, b)
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
func (r *brokerReconciler) FinalizeKind(ctx context.Context, b *eventingv1.Broker) reconciler.Event {
	for _, stream := range []string{bus.StreamName(b.Namespace, b.Name), bus.DeadLetterStreamName(b.Namespace, b.Name)} {
		if err := r.js.DeleteStream(ctx, stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			logging.FromContext(ctx).Errorw("deleting broker stream", zap.String("stream", stream), zap.Error(err))
			return fmt.Errorf("deleting stream %s of broker %s/%s: %w", stream, b.Namespace, b.Name, err)
		}
		logging.FromContext(ctx).Infow("deleted broker stream", zap.String("stream", stream))
	}
	return nil
}
