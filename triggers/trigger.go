// Package triggers defines the seam every trigger type implements and the registry
// that maps an Argo trigger template key (`http`, `awsLambda`, …) to it.
package triggers

import (
	"context"

	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/registry"
	"github.com/flintevents/flint/pkg/secret"
)

// Firing is one execution of a trigger: the template after the trigger-level
// parameters were applied, and the events (by dependency name) that fired it.
type Firing struct {
	Sensor   string
	Template *v1alpha1.TriggerTemplate
	Events   map[string]*event.Event
	// IdempotencyKey is stable across redeliveries of the same events
	// (sensor/trigger/event ids), for targets that can deduplicate.
	IdempotencyKey string
}

// Result is what the target answered, for the sensor's policy to judge.
type Result struct {
	// StatusCode is the HTTP(-like) status of the call; 0 when it has none.
	StatusCode int
	// Body is the response body, if any.
	Body []byte
}

// Trigger executes one firing.
type Trigger interface {
	Fire(ctx context.Context, in Firing) (Result, error)
}

// Deps are what a trigger type gets from its host process.
type Deps struct {
	Logger  *zap.SugaredLogger
	Secrets secret.Resolver
}

// Factory builds a trigger from its (unresolved) template; per-firing values
// arrive in Firing.Template.
type Factory func(tmpl *v1alpha1.TriggerTemplate, deps Deps) (Trigger, error)

var registered = registry.New[Factory]("triggers")

// Register maps an Argo trigger template type key to its factory; it is called from
// the type package's init and panics on a duplicate key.
func Register(key string, f Factory) { registered.Register(key, f) }

// Lookup returns the factory for a type key.
func Lookup(key string) (Factory, bool) { return registered.Lookup(key) }

// Keys lists the registered type keys, sorted.
func Keys() []string { return registered.Keys() }
