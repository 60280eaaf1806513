// Package sources defines the seam every event source type implements and the
// registry that maps an Argo EventSource type key (`webhook`, `sqs`, …) to it.
package sources

import (
	"context"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/registry"
	"github.com/flintevents/flint/pkg/secret"
)

// Emitter hands one event to the broker; a nil error means the broker stored it.
type Emitter func(ctx context.Context, ev cloudevents.Event) error

// Source is one running adapter: it runs until ctx ends, emitting through emit.
type Source interface {
	Run(ctx context.Context, emit Emitter) error
}

// Deps are what a source type gets from its host process.
type Deps struct {
	Logger  *zap.SugaredLogger
	Secrets secret.Resolver
}

// Factory builds the adapter for one type key of an EventSource (all its named entries).
type Factory func(es *v1alpha1.EventSource, deps Deps) (Source, error)

var registered = registry.New[Factory]("sources")

// Register maps an Argo EventSource type key to its factory; it is called from
// the type package's init and panics on a duplicate key.
func Register(key string, f Factory) { registered.Register(key, f) }

// Lookup returns the factory for a type key.
func Lookup(key string) (Factory, bool) { return registered.Lookup(key) }

// Keys lists the registered type keys, sorted.
func Keys() []string { return registered.Keys() }
