package ingress

import (
	"sync/atomic"

	"github.com/flintevents/flint/pkg/metrics"
)

// Target is where the events of one broker are stored.
type Target struct {
	Namespace string
	Name      string
	// Subject is the JetStream subject of the broker's stream.
	Subject string
	// Metrics counts the requests of the broker by response code; nil counts nothing.
	Metrics *metrics.BrokerTarget
}

// Registry is the set of brokers the ingress accepts events for. Set replaces it as a
// whole; Lookup is lock-free and safe to call concurrently with Set.
type Registry struct {
	targets atomic.Pointer[map[string]Target]
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	r := &Registry{}
	r.Set(nil)
	return r
}

// Set replaces the known brokers.
func (r *Registry) Set(targets []Target) {
	m := make(map[string]Target, len(targets))
	for _, t := range targets {
		m[key(t.Namespace, t.Name)] = t
	}
	r.targets.Store(&m)
}

// Lookup returns the broker named namespace/name.
func (r *Registry) Lookup(namespace, name string) (Target, bool) {
	t, ok := (*r.targets.Load())[key(namespace, name)]
	return t, ok
}

func key(namespace, name string) string { return namespace + "/" + name }
