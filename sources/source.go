// Package sources defines the seam every event source type implements and the
// registry that maps an Argo EventSource type key (`webhook`, `sqs`, …) to it.
//
// A source hands each event's name and data to its host through an Emitter;
// the host stamps the CloudEvent attributes (id, source, type, time,
// specversion, datacontenttype) and delivers it to the broker.
package sources

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/pkg/registry"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources/receiver"
)

// Event is what a source emits: the entry it came from and the Argo event data.
type Event struct {
	// Name is the entry name under the type key; it becomes the CloudEvent subject.
	Name string
	// Data is the Argo event data, JSON.
	Data []byte
	// Extensions are optional extra CloudEvent extension attributes.
	Extensions map[string]string
	// ID is an optional natural id (a message id, an offset…) so that the broker
	// drops redeliveries; the host mints one when empty.
	ID string
	// Time is when the event happened; the host's clock when zero.
	Time time.Time
}

// Emitter hands one event to the broker; a nil error means the broker stored it.
type Emitter func(ctx context.Context, ev Event) error

// Source is one running adapter: it runs until ctx ends, emitting through emit,
// and never calls emit after Run has returned.
type Source interface {
	Run(ctx context.Context, emit Emitter) error
}

// Deps are what a source type gets from its host process.
type Deps struct {
	// Logger is the host's logger; nil means no logging.
	Logger *zap.Logger
	// Secrets resolves secret references; needed only when the EventSource names one.
	Secrets secret.Resolver
	// Now is the host clock; nil means time.Now.
	Now func() time.Time
	// Receiver is the shared HTTP receiver push sources register their routes
	// on; needed only by push source types.
	Receiver *receiver.Receiver
	// Cluster is the cluster the source watches or reads, set only for the
	// types registered with NeedsCluster; nil when the host has no cluster
	// (flint dev without a kubeconfig).
	Cluster Cluster
	// Metrics counts what a source decides before emitting (the events its
	// filter expression drops); nil counts nothing.
	Metrics *metrics.Source
}

// Factory builds the adapter for one type key of an EventSource (all its
// named entries). It validates and prepares (push types register their routes
// on deps.Receiver) but binds and dials nothing; problems are *apis.FieldError
// with full paths such as `spec.webhook[example].port`.
type Factory func(es *v1alpha1.EventSource, deps Deps) (Source, error)

// registration is what Register records of a type.
type registration struct {
	factory Factory
	connect Connect      // nil: the type needs no cluster
	hooks   *HookManager // nil: the type manages no hooks
}

var registered = registry.New[registration]("sources")

// Register maps an Argo EventSource type key to its factory, qualified by
// opts (NeedsCluster, ManagesHooks); it is called from the type package's
// init and panics on a duplicate key.
func Register(key string, f Factory, opts ...Option) {
	r := registration{factory: f}
	for _, o := range opts {
		o(&r)
	}
	registered.Register(key, r)
}

// Lookup returns the factory for a type key.
func Lookup(key string) (Factory, bool) {
	r, ok := registered.Lookup(key)
	return r.factory, ok
}

// Keys lists the registered type keys, sorted.
func Keys() []string { return registered.Keys() }
