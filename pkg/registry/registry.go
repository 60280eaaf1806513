// Package registry maps Argo Events type keys (`webhook`, `http`, …) to the
// factories of the packages that implement them.
package registry

import (
	"fmt"
	"sort"
	"sync"
)

// Registry is a concurrency-safe map from type key to factory.
type Registry[F any] struct {
	kind string
	mu   sync.RWMutex
	m    map[string]F
}

// New returns an empty registry; kind names it in panics ("sources", "triggers").
func New[F any](kind string) *Registry[F] {
	return &Registry[F]{kind: kind, m: map[string]F{}}
}

// Register maps key to f; registering a key twice is a programming error and panics.
func (r *Registry[F]) Register(key string, f F) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[key]; dup {
		panic(fmt.Sprintf("%s: type %q registered twice", r.kind, key))
	}
	r.m[key] = f
}

// Lookup returns the factory for key.
func (r *Registry[F]) Lookup(key string) (F, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.m[key]
	return f, ok
}

// Keys lists the registered keys, sorted.
func (r *Registry[F]) Keys() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	keys := make([]string, 0, len(r.m))
	for k := range r.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
