// Package dataplane feeds flint's broker data plane from a cluster: it watches the
// Brokers of class flint-jetstream and their Triggers through informers and hands the
// whole desired set to the data plane after every change, so the ingress and the
// dispatcher follow what the broker controller reconciled.
package dataplane

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
	pkgduckv1 "knative.dev/pkg/apis/duck/v1"
)

// ClassAnnotation is the annotation naming a Broker's class.
const ClassAnnotation = "eventing.knative.dev/broker.class"

// Class is the broker class that flint's controller and data plane serve.
const Class = "flint-jetstream"

// Brokers and Triggers are the resources the data plane reads.
var (
	Brokers  = schema.GroupVersionResource{Group: "eventing.knative.dev", Version: "v1", Resource: "brokers"}
	Triggers = schema.GroupVersionResource{Group: "eventing.knative.dev", Version: "v1", Resource: "triggers"}
)

// ApplyFunc makes brokers and triggers the data plane's desired state, as
// broker.DataPlane.Apply does.
type ApplyFunc func(ctx context.Context, brokers []*eventingv1.Broker, triggers []*eventingv1.Trigger) error

// resync is how often the informers list everything again, in case a watch missed a change.
const resync = 10 * time.Minute

// settle lets a burst of changes (a kubectl apply of many Triggers) end in one Apply.
const settle = 50 * time.Millisecond

// maxRetryWait caps the wait before a failed Apply is tried again.
const maxRetryWait = 30 * time.Second

// Options tune Watch; the zero value watches every namespace and logs nothing.
type Options struct {
	// Namespace limits the watch to one namespace; empty means all.
	Namespace string
	// Applied, when set, is called after each successful apply.
	Applied func()
	// Logger receives failed applies and objects that do not decode.
	Logger *zap.Logger
}

// Watch runs informers on Brokers and Triggers until ctx ends. Once they have synced,
// and after every change, it calls apply with Desired of what they hold; a failed apply
// is retried with a growing delay until it succeeds or another change arrives. Watch
// returns nil when ctx ends, after its informers stopped.
func Watch(ctx context.Context, client dynamic.Interface, apply ApplyFunc, opts Options) error {
	logger := opts.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, resync, opts.Namespace, nil)
	defer factory.Shutdown()
	brokers := factory.ForResource(Brokers).Informer()
	triggers := factory.ForResource(Triggers).Informer()
	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify() },
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	}
	for _, inf := range []cache.SharedIndexInformer{brokers, triggers} {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return fmt.Errorf("watching brokers and triggers: %w", err)
		}
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), brokers.HasSynced, triggers.HasSynced) {
		return nil // ctx ended first
	}
	logger.Info("watching brokers and triggers of the cluster")

	var retry <-chan time.Time
	wait := 100 * time.Millisecond
	notify()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-retry:
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(settle):
		}
		// Changes seen while settling are in the stores already.
		select {
		case <-changed:
		default:
		}
		bs, ts := Desired(decode[eventingv1.Broker](brokers.GetStore().List(), logger), decode[eventingv1.Trigger](triggers.GetStore().List(), logger))
		if err := apply(ctx, bs, ts); err != nil {
			logger.Warn("applying brokers and triggers of the cluster", zap.Error(err), zap.Duration("retryIn", wait))
			retry = time.After(wait)
			wait = min(2*wait, maxRetryWait)
			continue
		}
		retry, wait = nil, 100*time.Millisecond
		logger.Debug("applied brokers and triggers of the cluster", zap.Int("brokers", len(bs)), zap.Int("triggers", len(ts)))
		if opts.Applied != nil {
			opts.Applied()
		}
	}
}

// decode turns informer objects into typed ones, skipping (and logging) any that do not convert.
func decode[T any](objs []any, logger *zap.Logger) []*T {
	out := make([]*T, 0, len(objs))
	for _, o := range objs {
		u, ok := o.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		v := new(T)
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, v); err != nil {
			logger.Warn("decoding object from the cluster", zap.String("kind", u.GetKind()),
				zap.String("namespace", u.GetNamespace()), zap.String("name", u.GetName()), zap.Error(err))
			continue
		}
		out = append(out, v)
	}
	return out
}

// Desired picks what the data plane serves out of a cluster's objects: the Brokers of
// class flint-jetstream that are not being deleted, and those Brokers' Triggers that are
// not being deleted and whose subscriber is known — given as a uri, or resolved by the
// controller into status.subscriberUri (a ref, with or without a uri relative to it).
// Dead-letter sinks given as references are
// replaced by the URIs the controller resolved into status.deadLetterSinkUri. The inputs
// are not modified; the results are sorted by namespace and name.
func Desired(brokers []*eventingv1.Broker, triggers []*eventingv1.Trigger) ([]*eventingv1.Broker, []*eventingv1.Trigger) {
	ours := map[string]bool{}
	var outB []*eventingv1.Broker
	for _, b := range brokers {
		if b.Annotations[ClassAnnotation] != Class || b.DeletionTimestamp != nil {
			continue
		}
		ours[b.Namespace+"/"+b.Name] = true
		if b.Spec.Delivery != nil && b.Spec.Delivery.DeadLetterSink != nil && byRef(b.Spec.Delivery.DeadLetterSink) {
			b = b.DeepCopy()
			b.Spec.Delivery.DeadLetterSink = resolvedSink(b.Status.DeadLetterSinkURI, b.Spec.Delivery.DeadLetterSink)
		}
		outB = append(outB, b)
	}
	var outT []*eventingv1.Trigger
	for _, t := range triggers {
		if t.DeletionTimestamp != nil || !ours[t.Namespace+"/"+BrokerOf(t)] {
			continue
		}
		if byRef(&t.Spec.Subscriber) && t.Status.SubscriberURI == nil {
			continue // the controller has not resolved the subscriber yet
		}
		t = t.DeepCopy()
		if byRef(&t.Spec.Subscriber) {
			t.Spec.Subscriber = pkgduckv1.Destination{URI: t.Status.SubscriberURI}
		}
		if d := t.Spec.Delivery; d != nil && d.DeadLetterSink != nil && byRef(d.DeadLetterSink) {
			d.DeadLetterSink = resolvedSink(t.Status.DeadLetterSinkURI, d.DeadLetterSink)
		}
		outT = append(outT, t)
	}
	slices.SortFunc(outB, func(a, b *eventingv1.Broker) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	slices.SortFunc(outT, func(a, b *eventingv1.Trigger) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return outB, outT
}

// byRef reports whether a destination is given by reference, alone or with a uri
// relative to it, so that its address is the one the controller resolved into status.
func byRef(d *pkgduckv1.Destination) bool {
	return d.Ref != nil || d.URI == nil
}

// resolvedSink is the sink at uri, or the unresolved reference when the controller has
// resolved none yet (the data plane then refuses the object with the reason).
func resolvedSink(uri *apis.URL, ref *pkgduckv1.Destination) *pkgduckv1.Destination {
	if uri == nil {
		return ref
	}
	return &pkgduckv1.Destination{URI: uri}
}

// BrokerOf is the name of the Broker a Trigger subscribes to: spec.broker, else
// spec.brokerRef.name.
func BrokerOf(t *eventingv1.Trigger) string {
	if t.Spec.Broker == "" && t.Spec.BrokerRef != nil {
		return t.Spec.BrokerRef.Name
	}
	return t.Spec.Broker
}
