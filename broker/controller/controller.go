// Package controller holds flint's Knative reconcilers for Brokers of class
// flint-jetstream and their Triggers. A Broker gets its JetStream stream, its address at
// the broker ingress (http://<ingress-host>/<namespace>/<name>) and its conditions; a
// Trigger gets its subscriber and dead-letter sink resolved into status, and becomes
// Ready once the dispatcher, which follows the cluster through informers, has created
// its durable consumer. Deleting a Broker deletes its stream (through a finalizer);
// deleting a Trigger lets the dispatcher delete its consumer.
//
// The controller follows the cluster through client-go dynamic informers and writes
// through the dynamic client, so it links none of knative eventing's generated clients
// (whose scheme brings every eventing API group along).
package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes/scheme"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/logging"

	"github.com/flintevents/flint/broker/controller/dataplane"
	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/pkg/kube"
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

// workers is how many keys of each kind are reconciled at once.
const workers = 2

// resync is how often the informers hand every object over again, so a change a watch
// missed, or a reconcile that gave up, is looked at again.
const resync = 10 * time.Minute

// byBroker indexes Triggers by the namespace/name of their Broker.
const byBroker = "broker"

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
	// MaxBytes caps the store of each broker stream (bus.DefaultMaxBytes when
	// zero, negative for no cap of its own). The controller is the one writer
	// of the streams' settings: the data plane in a cluster only checks that
	// they exist.
	MaxBytes int64
	// Namespace limits the controller to one namespace; empty means all.
	Namespace string
	// ConsumerRecheck is how often a Trigger whose consumer the dispatcher has not
	// created yet is looked at again; default DefaultConsumerRecheck.
	ConsumerRecheck time.Duration
	// ClusterDomain is the DNS domain of the cluster's Services, the suffix of a
	// Service subscriber's address; default DefaultClusterDomain.
	ClusterDomain string
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
	return bus.StreamOptions{Replicas: o.StreamReplicas, MaxAge: o.MaxAge, DuplicateWindow: o.DuplicateWindow, MaxBytes: o.MaxBytes}
}

// Run reconciles the Brokers and Triggers of the cluster of clients until ctx ends: it
// starts informers on Brokers and Triggers, waits for them to sync and runs two workers
// per kind. It returns nil once ctx ended and every goroutine it started has stopped.
// The logger is taken from ctx (knative.dev/pkg/logging).
func Run(ctx context.Context, clients *kube.Clients, opts Options) error {
	if err := opts.check(); err != nil {
		return fmt.Errorf("starting broker controller: %w", err)
	}
	if clients == nil || clients.Dynamic == nil || clients.Mapper == nil || clients.Core == nil {
		return errors.New("starting broker controller: no Kubernetes clients")
	}
	logger := logging.FromContext(ctx)
	// The factory's Shutdown waits for informers stopped through ctx: cancel runs first.
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(clients.Dynamic, resync, opts.Namespace, nil)
	defer factory.Shutdown()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	brokerInformer := factory.ForResource(dataplane.Brokers).Informer()
	triggerInformer := factory.ForResource(dataplane.Triggers).Informer()
	if err := triggerInformer.AddIndexers(cache.Indexers{byBroker: triggerBrokerKey}); err != nil {
		return fmt.Errorf("indexing triggers: %w", err)
	}
	recorder, stopEvents := newRecorder(clients.Core, logger)
	defer stopEvents()

	recheck := opts.ConsumerRecheck
	if recheck <= 0 {
		recheck = DefaultConsumerRecheck
	}
	br := &brokerReconciler{
		js: opts.JetStream, ingressHost: opts.IngressHost, streams: opts.streams(),
		brokers:  lister[eventingv1.Broker]{indexer: brokerInformer.GetIndexer(), resource: dataplane.Brokers.GroupResource()},
		client:   clients.Dynamic.Resource(dataplane.Brokers),
		recorder: recorder,
	}
	tr := &triggerReconciler{
		js: opts.JetStream, brokers: br.brokers, recheck: recheck,
		triggers:      lister[eventingv1.Trigger]{indexer: triggerInformer.GetIndexer(), resource: dataplane.Triggers.GroupResource()},
		client:        clients.Dynamic.Resource(dataplane.Triggers),
		brokersClient: br.client,
		recorder:      recorder,
	}
	brokers, triggers := newLoop(kindBroker, br.reconcile), newLoop(kindTrigger, tr.reconcile)
	refs := newTracker(ctx, clients.Dynamic, factory, opts.Namespace, func(o owner) {
		switch o.kind {
		case kindBroker:
			brokers.queue.Add(o.key)
		case kindTrigger:
			triggers.queue.Add(o.key)
		}
	})
	resolver := &destinationResolver{objects: refs, mapper: clients.Mapper, clusterDomain: opts.ClusterDomain}
	br.refs, br.resolver = refs, resolver
	tr.refs, tr.resolver = refs, resolver

	// A Broker of flint's class that appears, changes or goes away is reconciled, and
	// so are its Triggers, whose status follows it.
	brokerChanged := func(obj any) {
		if !ofClass(obj) {
			return
		}
		brokers.enqueue(obj)
		key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
		if err != nil {
			return
		}
		keys, err := triggerInformer.GetIndexer().IndexKeys(byBroker, key)
		if err != nil {
			return
		}
		for _, k := range keys {
			triggers.queue.Add(k)
		}
	}
	if _, err := brokerInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: brokerChanged,
		UpdateFunc: func(old, obj any) {
			if ofClass(old) && !ofClass(obj) {
				brokerChanged(old) // its Triggers are another class's now
				return
			}
			brokerChanged(obj)
		},
		DeleteFunc: brokerChanged,
	}); err != nil {
		return fmt.Errorf("watching brokers: %w", err)
	}
	if _, err := triggerInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    triggers.enqueue,
		UpdateFunc: func(_, obj any) { triggers.enqueue(obj) },
		DeleteFunc: triggers.enqueue,
	}); err != nil {
		return fmt.Errorf("watching triggers: %w", err)
	}

	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), brokerInformer.HasSynced, triggerInformer.HasSynced) {
		return nil // ctx ended first
	}
	logger.Infow("reconciling brokers and triggers", zap.String("namespace", opts.Namespace), zap.Int("workersPerKind", workers))
	var wg sync.WaitGroup
	wg.Go(func() { requeueOnReconnect(ctx, opts.JetStream.Conn(), brokerInformer, brokers) })
	wg.Go(func() { brokers.run(ctx, workers) })
	wg.Go(func() { triggers.run(ctx, workers) })
	wg.Wait()
	return nil
}

// requeueOnReconnect reconciles every Broker again each time nc connects
// anew, so streams that a NATS server lost with its store are created again
// with their settings, until ctx ends.
func requeueOnReconnect(ctx context.Context, nc *nats.Conn, brokers cache.SharedIndexInformer, l *loop) {
	if nc == nil {
		return
	}
	ch := nc.StatusChanged(nats.CONNECTED)
	defer nc.RemoveStatusListener(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
		for _, obj := range brokers.GetStore().List() {
			if ofClass(obj) {
				l.enqueue(obj)
			}
		}
	}
}

// ofClass reports whether obj (or the tombstone of one) is a Broker of flint's class.
func ofClass(obj any) bool {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	return ok && u.GetAnnotations()[dataplane.ClassAnnotation] == BrokerClass
}

// triggerBrokerKey is the index of a Trigger by its Broker's namespace/name: spec.broker,
// else spec.brokerRef.name, as dataplane.BrokerOf reads them.
func triggerBrokerKey(obj any) ([]string, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, nil
	}
	name, _, _ := unstructured.NestedString(u.Object, "spec", "broker")
	if name == "" {
		name, _, _ = unstructured.NestedString(u.Object, "spec", "brokerRef", "name")
	}
	return []string{u.GetNamespace() + "/" + name}, nil
}

// newRecorder records Kubernetes Events about Brokers and Triggers, as Knative's
// reconcilers do; stop flushes and stops it.
func newRecorder(core corev1client.CoreV1Interface, logger *zap.SugaredLogger) (recorder record.EventRecorder, stop func()) {
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&corev1client.EventSinkImpl{Interface: core.Events("")})
	broadcaster.StartEventWatcher(func(e *corev1.Event) {
		logger.Debugw("recorded event", zap.String("object", e.InvolvedObject.Namespace+"/"+e.InvolvedObject.Name),
			zap.String("type", e.Type), zap.String("reason", e.Reason), zap.String("message", e.Message))
	})
	return broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: agentName}), broadcaster.Shutdown
}
