// Package resource is the `resource` event source type: every named entry of
// an EventSource's spec.resource watches the Kubernetes objects of one
// group/version/resource with an informer and emits an event for each
// ADD, UPDATE or DELETE it asks for, with Argo Events' event data
// (`{"type","body","oldBody","group","version","resource","metadata"}`).
package resource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/kube"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/sources"
)

// Type is the EventSource type key, and the CloudEvent type, of resource events.
const Type = "resource"

// Emit retry bounds: a refused event is retried after FirstRetry, doubling up
// to MaxRetry, for as long as the source runs.
const (
	FirstRetry = 100 * time.Millisecond
	MaxRetry   = 10 * time.Second
)

// noCluster is what a factory without Kubernetes clients answers.
const noCluster = "the resource event source needs a Kubernetes cluster: run flint dev with --kubeconfig, or run in a cluster"

func init() {
	sources.Register(Type, sources.Watch, factory, sources.NeedsCluster(connect), sources.NeedsRBAC(rbac))
}

// factory is New over the cluster a host hands in deps.Cluster.
func factory(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
	clients, ok := deps.Cluster.(*kube.Clients)
	if !ok && deps.Cluster != nil {
		return nil, fmt.Errorf("resource: the host's cluster is a %T, want *kube.Clients", deps.Cluster)
	}
	src, err := New(es, deps, clients)
	if err != nil {
		return nil, err
	}
	return src, nil
}

// connect is how a host reaches the cluster resource sources watch; what
// client-go logs (a failing watch) goes to logger.
func connect(kubeconfig string, logger *zap.Logger) (sources.Cluster, error) {
	c, err := kube.Connect(kubeconfig)
	if c == nil { // no cluster, or an error: no Cluster rather than a nil *kube.Clients in one
		return nil, err
	}
	kube.LogTo(logger)
	return c, nil
}

// Source watches every resource entry of one EventSource, one informer each.
type Source struct {
	eventSource string
	dynamic     dynamic.Interface
	now         func() time.Time
	entries     []*entry
	ready       chan struct{}
	started     atomic.Bool
}

var _ sources.Source = (*Source)(nil)

// entry is one resource entry: what it watches and how it filters.
type entry struct {
	name       string
	gvr        schema.GroupVersionResource
	namespace  string
	types      map[v1alpha1.ResourceEventType]bool
	selector   string // label selector sent to the API server; "" selects all
	prefix     string
	fields     []fieldMatch
	createdBy  time.Time // zero: no bound
	afterStart bool
	metadata   map[string]string
	log        *zap.SugaredLogger
	// metrics counts the notifications the filter drops; nil counts nothing.
	metrics *metrics.SourceEvent
}

// fieldMatch is one `filter.fields` condition: the string at a gjson path of
// the object matches (or, negated, does not match) a regular expression.
type fieldMatch struct {
	path   string
	re     *regexp.Regexp
	negate bool
}

// New prepares the informers of es's resource entries on the cluster of
// clients; it dials nothing. es is expected to be defaulted and validated
// (pkg/manifest); New reports what it cannot watch (no cluster, unknown event
// types, label requirements the API server would refuse, field patterns that
// do not compile) as a *apis.FieldError. The registered factory passes a
// host's deps.Cluster as clients.
func New(es *v1alpha1.EventSource, deps sources.Deps, clients *kube.Clients) (*Source, error) {
	if es == nil {
		return nil, errors.New("resource: eventsource is nil")
	}
	if len(es.Spec.Resource) == 0 {
		return nil, apis.ErrGeneric(fmt.Sprintf("eventsource %s has no spec.resource entries", es.Name), "spec.resource")
	}
	if clients == nil || clients.Dynamic == nil {
		return nil, apis.ErrGeneric(noCluster, "spec.resource")
	}
	log := deps.Logger
	if log == nil {
		log = zap.NewNop()
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	s := &Source{eventSource: es.Name, dynamic: clients.Dynamic, now: now, ready: make(chan struct{})}
	names := make([]string, 0, len(es.Spec.Resource))
	for name := range es.Spec.Resource {
		names = append(names, name)
	}
	sort.Strings(names)
	var errs *apis.FieldError
	for _, name := range names {
		e, fe := newEntry(name, es.Spec.Resource[name])
		if fe != nil {
			errs = errs.Also(fe.ViaFieldKey(Type, name).ViaField("spec"))
			continue
		}
		e.log = log.Sugar().With("eventSource", es.Name, "eventName", name, "resource", e.gvr.String(), "namespace", e.namespace)
		e.metrics = deps.Metrics.Event(es.Name, name)
		s.entries = append(s.entries, e)
	}
	if errs != nil {
		return nil, errs
	}
	return s, nil
}

func newEntry(name string, r v1alpha1.ResourceEventSource) (*entry, *apis.FieldError) {
	e := &entry{
		name:      name,
		gvr:       schema.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Resource},
		namespace: r.Namespace,
		types:     make(map[v1alpha1.ResourceEventType]bool, len(r.EventTypes)),
		metadata:  r.Metadata,
	}
	var errs *apis.FieldError
	if r.Version == "" {
		errs = errs.Also(apis.ErrMissingField("version"))
	}
	if r.Resource == "" {
		errs = errs.Also(apis.ErrMissingField("resource"))
	}
	if len(r.EventTypes) == 0 {
		errs = errs.Also(apis.ErrMissingField("eventTypes"))
	}
	for i, t := range r.EventTypes {
		switch t {
		case v1alpha1.ADD, v1alpha1.UPDATE, v1alpha1.DELETE:
			e.types[t] = true
		default:
			errs = errs.Also(apis.ErrInvalidValue(string(t), apis.CurrentField, "want ADD, UPDATE or DELETE").ViaFieldIndex("eventTypes", i))
		}
	}
	if f := r.Filter; f != nil {
		e.prefix = f.Prefix
		e.afterStart = f.AfterStart
		if !f.CreatedBy.IsZero() {
			e.createdBy = f.CreatedBy.UTC()
		}
		sel, fe := labelSelector(f.Labels)
		errs = errs.Also(fe.ViaField("filter"))
		e.selector = sel
		fields, fe := fieldMatches(f.Fields)
		errs = errs.Also(fe.ViaField("filter"))
		e.fields = fields
	}
	if errs != nil {
		return nil, errs
	}
	return e, nil
}

// labelSelector turns `filter.labels` into the selector the informer lists
// and watches with, as Argo Events does: operation `==` when empty, values of
// `in` and `notin` separated by commas, `exists` and `!` without a value,
// `gt` and `lt` with one integer.
func labelSelector(sels []v1alpha1.Selector) (string, *apis.FieldError) {
	if len(sels) == 0 {
		return "", nil
	}
	var (
		errs *apis.FieldError
		reqs = make([]labels.Requirement, 0, len(sels))
	)
	for i, s := range sels {
		op := selection.Operator(s.Operation)
		if op == "" {
			op = selection.Equals
		}
		var values []string
		switch {
		case (op == selection.Exists || op == selection.DoesNotExist) && s.Value == "":
		case op == selection.In || op == selection.NotIn:
			values = strings.Split(s.Value, ",")
		default:
			values = []string{s.Value}
		}
		req, err := labels.NewRequirement(s.Key, op, values)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(fmt.Sprintf("%s %s %s", s.Key, s.Operation, s.Value), apis.CurrentField, err.Error()).ViaFieldIndex("labels", i))
			continue
		}
		reqs = append(reqs, *req)
	}
	if errs != nil {
		return "", errs
	}
	return labels.NewSelector().Add(reqs...).String(), nil
}

// fieldMatches compiles `filter.fields`: key is a gjson path into the object,
// value a regular expression its string must match (`=`, `==`, or empty) or
// must not match (`!=`).
func fieldMatches(sels []v1alpha1.Selector) ([]fieldMatch, *apis.FieldError) {
	var (
		errs *apis.FieldError
		out  = make([]fieldMatch, 0, len(sels))
	)
	for i, s := range sels {
		var negate bool
		switch selection.Operator(s.Operation) {
		case "", selection.Equals, selection.DoubleEquals:
		case selection.NotEquals:
			negate = true
		default:
			errs = errs.Also(apis.ErrInvalidValue(s.Operation, "operation", "want =, == or !=").ViaFieldIndex("fields", i))
			continue
		}
		if s.Key == "" {
			errs = errs.Also(apis.ErrMissingField("key").ViaFieldIndex("fields", i))
			continue
		}
		re, err := regexp.Compile(s.Value)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(s.Value, "value", err.Error()).ViaFieldIndex("fields", i))
			continue
		}
		out = append(out, fieldMatch{path: s.Key, re: re, negate: negate})
	}
	return out, errs
}

// Ready is closed once every entry's informer has listed its objects and the
// events of that initial list (ADD, unless afterStart) have been emitted.
func (s *Source) Ready() <-chan struct{} { return s.ready }

// Run starts one informer per entry and emits their events until ctx ends;
// then it stops the informers and returns nil once their handlers have
// returned. Events of one entry are emitted one at a time in the order the
// API server reported them; an event the emitter refuses is retried with a
// doubling backoff while ctx lives. A Source runs once.
func (s *Source) Run(ctx context.Context, emit sources.Emitter) error {
	if emit == nil {
		return errors.New("resource: emitter is nil")
	}
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("resource: source already started")
	}
	start := s.now()
	var (
		wg     sync.WaitGroup
		synced = make([]cache.InformerSynced, 0, len(s.entries))
	)
	for _, e := range s.entries {
		inf := dynamicinformer.NewFilteredDynamicInformer(s.dynamic, e.gvr, e.namespace, 0, cache.Indexers{},
			func(o *metav1.ListOptions) { o.LabelSelector = e.selector }).Informer()
		if err := inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
			e.log.Warnw("listing or watching failed; retrying", zap.Error(err))
		}); err != nil {
			return fmt.Errorf("resource: eventsource %s entry %s: %w", s.eventSource, e.name, err)
		}
		w := &watcher{entry: e, start: start, ctx: ctx, emit: emit}
		reg, err := inf.AddEventHandler(w.handler())
		if err != nil {
			return fmt.Errorf("resource: eventsource %s entry %s: adding the handler: %w", s.eventSource, e.name, err)
		}
		synced = append(synced, reg.HasSynced)
		wg.Go(func() { inf.RunWithContext(ctx) })
		e.log.Infow("watching", "labelSelector", e.selector)
	}
	wg.Go(func() {
		if cache.WaitForCacheSync(ctx.Done(), synced...) {
			close(s.ready)
		}
	})
	<-ctx.Done()
	wg.Wait()
	return nil
}

// watcher turns one entry's informer notifications into emitted events.
type watcher struct {
	*entry
	start time.Time
	ctx   context.Context
	emit  sources.Emitter
}

func (w *watcher) handler() cache.ResourceEventHandler {
	h := cache.ResourceEventHandlerDetailedFuncs{}
	if w.types[v1alpha1.ADD] {
		h.AddFunc = func(obj any, initial bool) {
			if u, ok := obj.(*unstructured.Unstructured); ok {
				w.handle(v1alpha1.ADD, u, nil, initial)
			}
		}
	}
	if w.types[v1alpha1.UPDATE] {
		h.UpdateFunc = func(oldObj, newObj any) {
			u, ok := newObj.(*unstructured.Unstructured)
			old, oldOK := oldObj.(*unstructured.Unstructured)
			if !ok || !oldOK || u.GetResourceVersion() == old.GetResourceVersion() {
				return
			}
			w.handle(v1alpha1.UPDATE, u, old, false)
		}
	}
	if w.types[v1alpha1.DELETE] {
		h.DeleteFunc = func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if u, ok := obj.(*unstructured.Unstructured); ok {
				w.handle(v1alpha1.DELETE, u, nil, false)
			}
		}
	}
	return h
}

// handle filters one notification and emits its event, retrying until the
// emitter takes it or the source stops.
func (w *watcher) handle(typ v1alpha1.ResourceEventType, obj, old *unstructured.Unstructured, initial bool) {
	if w.ctx.Err() != nil {
		return
	}
	log := w.log.With("type", string(typ), "object", obj.GetNamespace()+"/"+obj.GetName())
	body, err := obj.MarshalJSON()
	if err != nil {
		log.Errorw("encoding the object; event dropped", zap.Error(err))
		return
	}
	if !w.pass(obj, body, initial) {
		w.metrics.Filtered()
		return
	}
	d := eventData{Type: string(typ), Body: body, Group: w.gvr.Group, Version: w.gvr.Version, Resource: w.gvr.Resource, Metadata: w.metadata}
	if old != nil {
		if d.OldBody, err = old.MarshalJSON(); err != nil {
			log.Errorw("encoding the previous object; event dropped", zap.Error(err))
			return
		}
	}
	data, err := json.Marshal(d)
	if err != nil {
		log.Errorw("encoding the event; event dropped", zap.Error(err))
		return
	}
	w.deliver(log, sources.Event{Name: w.name, Data: data})
}

// pass applies the entry's filter to the object of a notification.
func (w *watcher) pass(obj *unstructured.Unstructured, body []byte, initial bool) bool {
	if w.prefix != "" && !strings.HasPrefix(obj.GetName(), w.prefix) {
		return false
	}
	created := obj.GetCreationTimestamp().UTC()
	// Only the informer's initial list holds objects that may predate the
	// start; everything it reports afterwards happened after it.
	if w.afterStart && initial && !created.After(w.start) {
		return false
	}
	if !w.createdBy.IsZero() && created.After(w.createdBy) {
		return false
	}
	for _, f := range w.fields {
		res := gjson.GetBytes(body, f.path)
		if !res.Exists() || f.re.MatchString(res.String()) == f.negate {
			return false
		}
	}
	return true
}

// deliver emits ev, retrying a refusal with a doubling backoff while the
// source runs; it gives up, logging, only when the source stops.
func (w *watcher) deliver(log *zap.SugaredLogger, ev sources.Event) {
	wait := FirstRetry
	for attempt := 1; ; attempt++ {
		err := w.emit(w.ctx, ev)
		if err == nil {
			return
		}
		if w.ctx.Err() != nil {
			log.Warnw("source stopping; event not emitted", zap.Error(err))
			return
		}
		log.Warnw("emitting the event failed; retrying", "attempt", attempt, "retryIn", wait, zap.Error(err))
		t := time.NewTimer(wait)
		select {
		case <-w.ctx.Done():
			t.Stop()
			log.Warnw("source stopping; event not emitted", zap.Error(err))
			return
		case <-t.C:
		}
		wait = min(2*wait, MaxRetry)
	}
}

// eventData is Argo Events' resource event data; oldBody is null except for
// UPDATE.
type eventData struct {
	Type     string            `json:"type"`
	Body     json.RawMessage   `json:"body"`
	OldBody  json.RawMessage   `json:"oldBody"`
	Group    string            `json:"group"`
	Version  string            `json:"version"`
	Resource string            `json:"resource"`
	Metadata map[string]string `json:"metadata,omitempty"`
}
