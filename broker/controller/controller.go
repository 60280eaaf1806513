// Package controller holds flint's Knative reconcilers for Brokers of class
// flint-jetstream and their Triggers. A Broker gets its JetStream stream, its address at
// the broker ingress (http://<ingress-host>/<namespace>/<name>) and its conditions; a
// Trigger gets its subscriber and dead-letter sink resolved into status, and becomes
// Ready once the dispatcher, which follows the cluster through informers, has created
// its durable consumer. Deleting a Broker deletes its stream (through a finalizer);
// deleting a Trigger lets the dispatcher delete its consumer.
package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/eventing/pkg/client/clientset/versioned"
	eventingclient "knative.dev/eventing/pkg/client/injection/client"
	brokerinformer "knative.dev/eventing/pkg/client/injection/informers/eventing/v1/broker"
	triggerinformer "knative.dev/eventing/pkg/client/injection/informers/eventing/v1/trigger"
	brokerreconciler "knative.dev/eventing/pkg/client/injection/reconciler/eventing/v1/broker"
	triggerreconciler "knative.dev/eventing/pkg/client/injection/reconciler/eventing/v1/trigger"
	eventinglisters "knative.dev/eventing/pkg/client/listers/eventing/v1"
	"knative.dev/pkg/controller"
	"knative.dev/pkg/injection"
	pkgreconciler "knative.dev/pkg/reconciler"
	"knative.dev/pkg/resolver"

	// The dynamic client and the Addressable duck informers the resolver reads
	// subscribers and dead-letter sinks through.
	_ "knative.dev/pkg/client/injection/ducks/duck/v1/addressable"
	_ "knative.dev/pkg/injection/clients/dynamicclient"

	"github.com/flintevents/flint/broker/controller/dataplane"
	"github.com/flintevents/flint/broker/internal/bus"
)

// BrokerClass is the value of the eventing.knative.dev/broker.class annotation of the
// Brokers this controller reconciles.
const BrokerClass = dataplane.Class

// agentName names the controller in the Kubernetes Events it records.
const agentName = "flint-broker-controller"

// FinalizerName is the finalizer through which deleting a Broker deletes its stream.
const FinalizerName = "brokers.eventing.knative.dev/" + BrokerClass

// DefaultConsumerRecheck is how often a Trigger waiting for its consumer is looked at again.
const DefaultConsumerRecheck = time.Second

// Options are the explicit dependencies and settings of the reconcilers.
type Options struct {
	// JetStream holds the broker streams and trigger consumers; required.
	JetStream jetstream.JetStream
	// IngressHost is the host (and port) of the broker ingress Service, such as
	// broker-ingress.flint-system.svc.cluster.local; required.
	IngressHost string
	// StreamReplicas, MaxAge and DuplicateWindow configure broker streams as the data
	// plane does (zero values take its defaults); both must be given the same values.
	StreamReplicas int
	// MaxAge is how long a broker stream keeps events; default 24 h.
	MaxAge time.Duration
	// DuplicateWindow is how long a re-sent event is stored only once; default 2 min.
	DuplicateWindow time.Duration
	// Namespace limits the controller to one namespace; empty means all.
	Namespace string
	// ConsumerRecheck is how often a Trigger whose consumer the dispatcher has not
	// created yet is looked at again; default DefaultConsumerRecheck.
	ConsumerRecheck time.Duration
}

func (o Options) check() error {
	switch {
	case o.JetStream == nil:
		return errors.New("no JetStream")
	case o.IngressHost == "":
		return errors.New("no ingress host")
	}
	return nil
}

func (o Options) streams() bus.StreamOptions {
	return bus.StreamOptions{Replicas: o.StreamReplicas, MaxAge: o.MaxAge, DuplicateWindow: o.DuplicateWindow}
}

// Run reconciles the Brokers and Triggers of the cluster at cfg until ctx ends: it sets
// up the injected clients and informers, waits for them to sync and runs both
// controllers. The logger is taken from ctx (knative.dev/pkg/logging).
func Run(ctx context.Context, cfg *rest.Config, opts Options) error {
	if err := opts.check(); err != nil {
		return fmt.Errorf("starting broker controller: %w", err)
	}
	if opts.Namespace != "" {
		ctx = injection.WithNamespaceScope(ctx, opts.Namespace)
	}
	ctx, informers := injection.Default.SetupInformers(ctx, cfg)
	brokers := NewBrokerController(ctx, opts)
	triggers := NewTriggerController(ctx, opts)
	if err := controller.StartInformers(ctx.Done(), informers...); err != nil {
		return fmt.Errorf("starting informers: %w", err)
	}
	if err := controller.StartAll(ctx, brokers, triggers); err != nil {
		return fmt.Errorf("running broker controller: %w", err)
	}
	return nil
}

// NewBrokerController returns the controller of Brokers of class flint-jetstream. It takes
// its clients and informers from ctx, as set up by injection.
func NewBrokerController(ctx context.Context, opts Options) *controller.Impl {
	r := &brokerReconciler{js: opts.JetStream, ingressHost: opts.IngressHost, streams: opts.streams()}
	impl := brokerreconciler.NewImpl(ctx, r, BrokerClass, func(*controller.Impl) controller.Options {
		return controller.Options{AgentName: agentName, FinalizerName: FinalizerName}
	})
	r.resolver = resolver.NewURIResolverFromTracker(ctx, impl.Tracker)
	_, _ = brokerinformer.Get(ctx).Informer().AddEventHandler(cache.FilteringResourceEventHandler{
		FilterFunc: pkgreconciler.AnnotationFilterFunc(brokerreconciler.ClassAnnotationKey, BrokerClass, false),
		Handler:    controller.HandleAll(impl.Enqueue),
	})
	return impl
}

// NewTriggerController returns the controller of Triggers whose Broker is of class
// flint-jetstream, or does not exist (so the Trigger says so). It takes its clients and
// informers from ctx, as set up by injection.
func NewTriggerController(ctx context.Context, opts Options) *controller.Impl {
	brokerInformer := brokerinformer.Get(ctx)
	triggerInformer := triggerinformer.Get(ctx)
	recheck := opts.ConsumerRecheck
	if recheck <= 0 {
		recheck = DefaultConsumerRecheck
	}
	r := &triggerReconciler{js: opts.JetStream, brokers: brokerInformer.Lister(), recheck: recheck}
	impl := triggerreconciler.NewImpl(ctx, r, func(*controller.Impl) controller.Options {
		return controller.Options{AgentName: agentName}
	})
	r.resolver = resolver.NewURIResolverFromTracker(ctx, impl.Tracker)
	_, _ = triggerInformer.Informer().AddEventHandler(cache.FilteringResourceEventHandler{
		FilterFunc: ours(ctx, brokerInformer.Lister(), eventingclient.Get(ctx)),
		Handler:    controller.HandleAll(impl.Enqueue),
	})
	// A Broker that appears, changes or goes away changes its Triggers' status.
	triggers := triggerInformer.Lister()
	_, _ = brokerInformer.Informer().AddEventHandler(controller.HandleAll(func(obj any) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		b, ok := obj.(*eventingv1.Broker)
		if !ok || b.Annotations[brokerreconciler.ClassAnnotationKey] != BrokerClass {
			return // another class's Triggers are not ours to touch
		}
		list, err := triggers.Triggers(b.Namespace).List(everything)
		if err != nil {
			return
		}
		for _, t := range list {
			if dataplane.BrokerOf(t) == b.Name {
				impl.Enqueue(t)
			}
		}
	}))
	return impl
}

// brokerCheckTimeout bounds the look-up of a Broker the informer does not hold.
const brokerCheckTimeout = 5 * time.Second

// ours reports whether a Trigger is this controller's: its Broker is of class
// flint-jetstream, or missing. A Broker missing from the informer is looked up in the
// cluster too, since a Trigger may be seen before the Broker created just ahead of it.
func ours(ctx context.Context, brokers eventinglisters.BrokerLister, client versioned.Interface) func(any) bool {
	return func(obj any) bool {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		t, ok := obj.(*eventingv1.Trigger)
		if !ok {
			return false
		}
		name := dataplane.BrokerOf(t)
		b, err := brokers.Brokers(t.Namespace).Get(name)
		if apierrs.IsNotFound(err) {
			getCtx, cancel := context.WithTimeout(ctx, brokerCheckTimeout)
			defer cancel()
			b, err = client.EventingV1().Brokers(t.Namespace).Get(getCtx, name, metav1.GetOptions{})
		}
		if err != nil {
			return true // missing (or unknown): the Trigger is told so
		}
		return b.Annotations[brokerreconciler.ClassAnnotationKey] == BrokerClass
	}
}
