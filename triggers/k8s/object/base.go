package object

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/kube"
	"github.com/flintevents/flint/triggers"
)

// Base is what the k8s and argoWorkflow triggers hold alike: the loader of
// their source, the client of the cluster, the clock and a logger naming the
// trigger type. A trigger embeds it and so closes through it.
type Base struct {
	// Loader reads the source object at every firing.
	Loader *Loader
	// Client reaches objects of any kind.
	Client *Client
	// Now is the clock of the action-timestamp label.
	Now func() time.Time
	// Logger carries the triggerType field.
	Logger *zap.Logger
	// key is the trigger type key errors start with, e.g. "k8s".
	key string
}

// CheckDeps reports what keeps a trigger reading src from being built on
// deps: no cluster, or a source flint cannot read yet.
func CheckDeps(deps triggers.Deps, src *v1alpha1.ArtifactLocation) *apis.FieldError {
	var errs *apis.FieldError
	if clients(deps) == nil {
		errs = NeedsCluster()
	}
	return errs.Also(CheckSource(src))
}

// Connect is how a host reaches the cluster the k8s and argoWorkflow
// triggers act on (triggers.NeedsCluster); client-go logs to logger.
func Connect(kubeconfig string, logger *zap.Logger) (triggers.Cluster, error) {
	if logger != nil {
		kube.LogTo(logger)
	}
	c, err := kube.Connect(kubeconfig)
	if c == nil { // no cluster, or an error: no Cluster rather than a nil *kube.Clients in one
		return nil, err
	}
	return c, nil
}

// clients are the Kubernetes clients of deps.Kube; nil when it holds none.
func clients(deps triggers.Deps) *kube.Clients {
	c, _ := deps.Kube.(*kube.Clients)
	return c
}

// NewBase builds the base of the trigger type key over deps, whose Kube
// CheckDeps found set; a nil Logger logs nothing.
func NewBase(deps triggers.Deps, key string) Base {
	logger := deps.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return Base{
		Loader: NewLoader(clients(deps).Core, deps.Transport),
		Client: NewClient(clients(deps)),
		Now:    deps.Clock(),
		Logger: logger.With(zap.String("triggerType", key)),
		key:    key,
	}
}

// Close releases the idle connections of URL sources.
func (b *Base) Close() error {
	b.Loader.Close()
	return nil
}

// Load reads the object of src as JSON, a ConfigMap in the firing's
// namespace (or DefaultNamespace); errors name the member, e.g.
// `k8s.source.url: …`.
func (b *Base) Load(ctx context.Context, src *v1alpha1.ArtifactLocation, in triggers.Firing) ([]byte, error) {
	doc, err := b.Loader.Load(ctx, src, Namespace(in.Namespace))
	if err != nil {
		return nil, fmt.Errorf("%s.%w", b.key, err)
	}
	return doc, nil
}

// Object applies the firing's parameters to doc, as Load read it, and
// decodes the object.
func (b *Base) Object(doc []byte, in triggers.Firing) (*unstructured.Unstructured, error) {
	if in.ApplyParameters != nil {
		var err error
		if doc, err = in.ApplyParameters(doc); err != nil {
			return nil, err
		}
	}
	obj, err := Decode(doc)
	if err != nil {
		return nil, fmt.Errorf("%s.source: %w", b.key, err)
	}
	return obj, nil
}
