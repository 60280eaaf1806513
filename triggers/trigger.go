// Package triggers defines the seam every trigger type implements and the registry
// that maps an Argo trigger template key (`http`, `awsLambda`, …) to it.
//
// A trigger type does I/O only. The sensor engine owns everything else: it
// applies the trigger-level and type-level `parameters`, builds the `payload`,
// and hands the type its own spec, typed and resolved, with the payload bytes.
// Trigger packages never import the engine.
package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/registry"
	"github.com/flintevents/flint/pkg/secret"
)

// Firing is one execution of a trigger, already resolved by the engine.
type Firing struct {
	// Sensor and Trigger name the sensor and the trigger template.
	Sensor, Trigger string
	// Payload is the body built from the type's `payload` parameters; nil
	// when the type has none or they resolved to nothing.
	Payload []byte
	// Events are the events that fired the trigger, by dependency name.
	Events map[string]*event.Event
	// IdempotencyKey is stable across redeliveries of the same events
	// (sensor/trigger/event ids), for targets that can deduplicate.
	IdempotencyKey string
	// ApplyParameters applies the type's own `parameters` to a JSON document
	// with this firing's events. It is set only for types registered with
	// ResourceParameters, whose parameters apply to the object they create
	// rather than to their spec.
	ApplyParameters func(doc []byte) ([]byte, error)
	// Namespace is the sensor's namespace, where Kubernetes triggers act when
	// their object names none; empty when the sensor names none.
	Namespace string
	// Policy is the trigger's `policy`, for types that enforce part of it
	// themselves (k8s and argoWorkflow wait for `policy.k8s` labels on the
	// object they created); nil when the trigger has none.
	Policy *v1alpha1.TriggerPolicy
}

// Result is what the target answered, for the sensor's policy to judge.
type Result struct {
	// StatusCode is the HTTP(-like) status of the call; 0 when it has none.
	StatusCode int
	// Body is the response body, if any.
	Body []byte
	// Object is the object the trigger created or changed, if any
	// (Kubernetes triggers), for policies that inspect it.
	Object map[string]any
}

// Trigger fires one trigger type whose spec is S (e.g. v1alpha1.HTTPTrigger).
// spec is the template's spec after parameters; it is shared and read-only.
type Trigger[S any] interface {
	Fire(ctx context.Context, spec *S, in Firing) (Result, error)
}

// Factory builds a trigger from its spec as written in the Sensor (before
// parameters). It validates the spec and prepares clients; it should do no
// network I/O, so that `flint validate` can build every trigger. Problems are
// reported as *apis.FieldError relative to the spec (e.g. `tls.caCertSecret`).
type Factory[S any] func(spec *S, deps Deps) (Trigger[S], error)

// Deps are what a trigger type gets from its host process, filled once.
type Deps struct {
	// Logger is the sensor's logger; never nil once the engine passes Deps on.
	Logger *zap.Logger
	// Secrets resolves Secret references (cluster Secrets, or env/files in dev).
	Secrets secret.Resolver
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Transport is the HTTP transport for types that make HTTP calls; a
	// type builds its own when nil (or when its spec needs its own TLS).
	Transport http.RoundTripper
	// Kube is the cluster that types registered with NeedsCluster act on
	// (a *kube.Clients); nil when the host has no cluster (flint dev without
	// a kubeconfig) or builds no such type.
	Kube Cluster
}

// Clock returns d.Now or time.Now.
func (d Deps) Clock() func() time.Time {
	if d.Now == nil {
		return time.Now
	}
	return d.Now
}

// Instance is a built trigger of any type, as the engine drives it.
type Instance interface {
	// Decode turns the type's spec JSON (after parameters) into the typed spec Fire takes.
	Decode(spec []byte) (any, error)
	// Fire fires with a spec Decode returned.
	Fire(ctx context.Context, spec any, in Firing) (Result, error)
	// Close releases what the trigger holds (connections, clients).
	Close() error
}

// Type is one registered trigger type.
type Type struct {
	// Key is the Argo template key, e.g. "http".
	Key string
	// ResourceParameters is true when the type's `parameters` apply to the
	// object it creates (k8s, argoWorkflow) instead of to its spec.
	ResourceParameters bool
	// ResourcePath is where in the type's spec (a gjson path) that object
	// is written inline, e.g. "source.resource"; set with ResourceParameters.
	ResourcePath string
	// Attempt is how long one firing of a trigger of the type may take
	// (AttemptTimeout); nil when the type does not say.
	Attempt func(t *v1alpha1.Trigger) Attempt
	// Access is the rights on the cluster one trigger of the type uses
	// (ClusterAccess); nil for a type that acts on no cluster.
	Access func(req AccessRequest) Rights
	// TestFiring is how the generated function test fires the type (FiresInTest).
	TestFiring TestFiring
	// Connect reaches the cluster the type acts on; nil for a type that
	// acts on none (NeedsCluster).
	Connect Connect
	// Package is the import path of the package that registered the type,
	// which a program imports to link it.
	Package string
	// Build builds an instance from the type's spec JSON as written.
	Build func(spec []byte, deps Deps) (Instance, error)
}

// Option tunes a registration.
type Option func(*Type)

// ResourceParameters marks a type whose `parameters` apply to the object it
// creates, written inline at path at (a gjson path in its spec, e.g.
// "source.resource"); the engine then leaves them to the type through
// Firing.ApplyParameters, and a dry run applies them to that object.
func ResourceParameters(at string) Option {
	return func(t *Type) { t.ResourceParameters, t.ResourcePath = true, at }
}

var registered = registry.New[Type]("triggers")

// Register maps an Argo trigger template key to a typed factory; it is called
// from the type package's init and panics on a duplicate key.
func Register[S any](key string, f Factory[S], opts ...Option) {
	t := Type{Key: key, Package: registry.CallerPackage(1), Build: func(raw []byte, deps Deps) (Instance, error) {
		spec, err := decode[S](raw)
		if err != nil {
			return nil, err
		}
		trig, err := f(spec, deps)
		if err != nil {
			return nil, err
		}
		return instance[S]{trig}, nil
	}}
	for _, o := range opts {
		o(&t)
	}
	registered.Register(key, t)
}

// Lookup returns the registered type for a template key.
func Lookup(key string) (Type, bool) { return registered.Lookup(key) }

// Keys lists the registered type keys, sorted.
func Keys() []string { return registered.Keys() }

// instance adapts a typed Trigger to Instance.
type instance[S any] struct{ t Trigger[S] }

func (i instance[S]) Decode(raw []byte) (any, error) { return decode[S](raw) }

func (i instance[S]) Fire(ctx context.Context, spec any, in Firing) (Result, error) {
	s, ok := spec.(*S)
	if !ok {
		return Result{}, fmt.Errorf("trigger spec is %T, want %T", spec, s)
	}
	return i.t.Fire(ctx, s, in)
}

func (i instance[S]) Close() error {
	if c, ok := i.t.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// decode decodes a spec; a spec that does not decode is a problem at the
// spec itself (or at the field JSON names), as the factory's own problems are.
func decode[S any](raw []byte) (*S, error) {
	spec := new(S)
	if len(raw) == 0 {
		return spec, nil
	}
	if err := json.Unmarshal(raw, spec); err != nil {
		fe := &apis.FieldError{Message: "decoding the trigger spec: " + err.Error(), Paths: []string{apis.CurrentField}}
		if te := (*json.UnmarshalTypeError)(nil); errors.As(err, &te) && te.Field != "" {
			fe = apis.ErrInvalidValue(te.Value, te.Field, fmt.Sprintf("expected %s", te.Type))
		}
		return nil, fe
	}
	return spec, nil
}
