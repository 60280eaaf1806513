package controller

import (
	"context"
	"sync"

	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// owner is a Broker or Trigger that refers to other objects (its subscriber, its
// dead-letter sink) by key (namespace/name).
type owner struct {
	kind string
	key  string
}

// objectKey names one object a destination refers to.
type objectKey struct {
	resource  schema.GroupVersionResource
	namespace string
	name      string
}

// tracker reads the objects Brokers and Triggers refer to and enqueues the owner again
// when one of them appears, changes or goes away, so a subscriber's new address reaches
// the Trigger's status. It watches each kind referred to through an informer of the
// controller's factory, started the first time the kind is read; until that informer has
// synced, and for objects outside the namespace it watches, it reads from the API
// server.
//
// An owner's references are those it read in its last reconcile: reads add to them,
// and settle, called when the reconcile ends, drops the ones it did not read again. The
// work queue never reconciles one owner twice at once, so its reads do not interleave.
type tracker struct {
	ctx       context.Context // stops the informers the tracker starts
	client    dynamic.Interface
	factory   dynamicinformer.DynamicSharedInformerFactory
	namespace string // the factory's; empty means all
	enqueue   func(owner)

	mu        sync.Mutex
	informers map[schema.GroupVersionResource]cache.SharedIndexInformer
	owners    map[objectKey]map[owner]struct{} // who refers to each object
	refs      map[owner]*ownerRefs
}

// ownerRefs are the objects an owner referred to in its last reconcile (current), and
// those it has read in the one under way (next).
type ownerRefs struct {
	current, next map[objectKey]struct{}
}

func newTracker(ctx context.Context, client dynamic.Interface, factory dynamicinformer.DynamicSharedInformerFactory, namespace string, enqueue func(owner)) *tracker {
	return &tracker{
		ctx: ctx, client: client, factory: factory, namespace: namespace, enqueue: enqueue,
		informers: map[schema.GroupVersionResource]cache.SharedIndexInformer{},
		owners:    map[objectKey]map[owner]struct{}{},
		refs:      map[owner]*ownerRefs{},
	}
}

// get returns the object namespace/name of resource (namespace empty for a
// cluster-scoped one) and records that from refers to it. The object is shared: it
// must not be modified.
func (t *tracker) get(ctx context.Context, from owner, resource schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error) {
	key := objectKey{resource: resource, namespace: namespace, name: name}
	t.add(from, key)
	if inf := t.informer(resource, namespace); inf != nil && inf.HasSynced() {
		obj, ok, err := inf.GetIndexer().GetByKey(namespace + "/" + name)
		if err == nil && !ok {
			return nil, apierrs.NewNotFound(resource.GroupResource(), name)
		}
		if u, isU := obj.(*unstructured.Unstructured); err == nil && isU {
			return u, nil
		}
	}
	return t.client.Resource(resource).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
}

// add records that from refers to key.
func (t *tracker) add(from owner, key objectKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.refs[from]
	if r == nil {
		r = &ownerRefs{current: map[objectKey]struct{}{}, next: map[objectKey]struct{}{}}
		t.refs[from] = r
	}
	r.current[key] = struct{}{}
	r.next[key] = struct{}{}
	if t.owners[key] == nil {
		t.owners[key] = map[owner]struct{}{}
	}
	t.owners[key][from] = struct{}{}
}

// settle ends a reconcile of from: it refers to what it read during it, and nothing else.
func (t *tracker) settle(from owner) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.refs[from]
	if r == nil {
		return
	}
	for key := range r.current {
		if _, ok := r.next[key]; !ok {
			t.drop(from, key)
		}
	}
	if len(r.next) == 0 {
		delete(t.refs, from)
		return
	}
	r.current, r.next = r.next, map[objectKey]struct{}{}
}

// forget drops every reference of from, which is gone or not this controller's.
func (t *tracker) forget(from owner) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r := t.refs[from]; r != nil {
		for key := range r.current {
			t.drop(from, key)
		}
		delete(t.refs, from)
	}
}

// drop removes from among the owners of key; t.mu is held.
func (t *tracker) drop(from owner, key objectKey) {
	delete(t.owners[key], from)
	if len(t.owners[key]) == 0 {
		delete(t.owners, key)
	}
}

// informer returns the informer on resource, starting it on first use, or nil when the
// object namespace is out of the factory's reach (cluster-scoped, or another namespace).
func (t *tracker) informer(resource schema.GroupVersionResource, namespace string) cache.SharedIndexInformer {
	if namespace == "" || (t.namespace != "" && namespace != t.namespace) {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if inf, ok := t.informers[resource]; ok {
		return inf
	}
	inf := t.factory.ForResource(resource).Informer()
	changed := func(obj any) { t.changed(resource, obj) }
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    changed,
		UpdateFunc: func(_, obj any) { changed(obj) },
		DeleteFunc: changed,
	}); err != nil {
		return nil // the factory is stopping
	}
	t.informers[resource] = inf
	t.factory.Start(t.ctx.Done())
	return inf
}

// changed enqueues the owners of an object that appeared, changed or went away.
func (t *tracker) changed(resource schema.GroupVersionResource, obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	key := objectKey{resource: resource, namespace: u.GetNamespace(), name: u.GetName()}
	t.mu.Lock()
	owners := make([]owner, 0, len(t.owners[key]))
	for o := range t.owners[key] {
		owners = append(owners, o)
	}
	t.mu.Unlock()
	for _, o := range owners {
		t.enqueue(o)
	}
}
