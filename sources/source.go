// Package sources defines the seam every event source type implements and the
// registry that maps an Argo EventSource type key (`webhook`, `sqs`, …) to it.
//
// A source hands each event's name and data to its host through an Emitter;
// the host stamps the CloudEvent attributes (id, source, type, time,
// specversion, datacontenttype) and delivers it to the broker.
package sources

import (
	"context"
	"fmt"
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

// Kind is how a source type's events reach it, which decides how it runs.
type Kind string

// The kinds of source types.
const (
	// Push types are sent their events: they register routes on the host's
	// receiver (webhook, github), so in a cluster a request wakes them and
	// they scale to zero.
	Push Kind = "push"
	// Pull types read their events from a queue or stream (kafka, amqp,
	// redisStream, …) and acknowledge each at the origin once the broker
	// stored it.
	Pull Kind = "pull"
	// Watch types observe a system's state and emit its changes (resource
	// watches Kubernetes objects); one instance runs, always.
	Watch Kind = "watch"
)

// Valid tells whether k is one of the kinds.
func (k Kind) Valid() bool { return k == Push || k == Pull || k == Watch }

// Type is one registered source type: its factory and the facts that hosts,
// `flint compile` and `flint dev` read instead of switching on its key.
type Type struct {
	// Key is the Argo EventSource type key, e.g. "webhook".
	Key string
	// Kind is whether the type is push, pull or watch.
	Kind Kind
	// Factory builds the adapter of an EventSource's entries of the type.
	Factory Factory
	// Connect reaches the cluster the type watches or reads; nil for a type
	// that needs none (NeedsCluster).
	Connect Connect
	// RBAC returns the rights in the cluster the type's entries need; nil
	// for a type that needs none (NeedsRBAC).
	RBAC RBAC
	// Hooks manages the hooks the type's entries ask for; nil for a type
	// that manages none (ManagesHooks).
	Hooks *HookManager
	// Backlog says the type's origin keeps messages while no source reads
	// them (KeepsBacklog).
	Backlog bool
	// Package is the import path of the package that registered the type.
	Package string
}

var registered = registry.New[Type]("sources")

// Register maps an Argo EventSource type key of the given kind to its
// factory, qualified by opts (NeedsCluster, NeedsRBAC, ManagesHooks,
// KeepsBacklog); it is
// called from the type package's init and panics on a duplicate key or a
// kind that is not Push, Pull or Watch.
func Register(key string, kind Kind, f Factory, opts ...Option) {
	if !kind.Valid() {
		panic(fmt.Sprintf("sources: type %q registered with kind %q, want push, pull or watch", key, kind))
	}
	t := Type{Key: key, Kind: kind, Factory: f, Package: registry.CallerPackage(1)}
	for _, o := range opts {
		o(&t)
	}
	registered.Register(key, t)
}

// Lookup returns the registered type of a type key.
func Lookup(key string) (Type, bool) { return registered.Lookup(key) }

// Keys lists the registered type keys, sorted.
func Keys() []string { return registered.Keys() }
