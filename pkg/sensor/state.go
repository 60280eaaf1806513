package sensor

import (
	"context"
	"sync"

	"github.com/flintevents/flint/pkg/event"
)

// StateStore keeps what a sensor remembers between events: for each trigger,
// the latest event per dependency that its condition is still waiting on, and
// the idempotency keys of the firings that succeeded. One store holds the
// state of one sensor; its methods are safe for concurrent use.
type StateStore interface {
	// UpdatePending replaces the pending events of trigger (by dependency
	// name) with what fn returns for the current ones (nil when none), as one
	// atomic step. fn may modify and return the map it is given, and may be
	// called more than once (a compare-and-swap store retries on conflict),
	// so it must have no other effect than its result.
	UpdatePending(ctx context.Context, trigger string, fn func(pending map[string]*event.Event) map[string]*event.Event) error
	// Fired reports whether a firing with this idempotency key succeeded.
	Fired(ctx context.Context, key string) (bool, error)
	// MarkFired records that the firing with this idempotency key succeeded.
	MarkFired(ctx context.Context, key string) error
}

// DefaultFiredKeys is how many idempotency keys NewMemoryStore remembers.
const DefaultFiredKeys = 4096

// MemoryStore is a StateStore in process memory: pending events are lost on
// restart, and only the latest maxFired idempotency keys are remembered.
type MemoryStore struct {
	mu       sync.Mutex // guards every field below
	pending  map[string]map[string]*event.Event
	maxFired int
	fired    map[string]struct{}
	order    []string // fired keys, oldest first
}

// NewMemoryStore returns an empty in-memory store that remembers the latest
// maxFired idempotency keys (DefaultFiredKeys when maxFired <= 0).
func NewMemoryStore(maxFired int) *MemoryStore {
	if maxFired <= 0 {
		maxFired = DefaultFiredKeys
	}
	return &MemoryStore{
		pending:  map[string]map[string]*event.Event{},
		maxFired: maxFired,
		fired:    make(map[string]struct{}, maxFired),
	}
}

// UpdatePending implements StateStore.
func (m *MemoryStore) UpdatePending(ctx context.Context, trigger string, fn func(map[string]*event.Event) map[string]*event.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	next := fn(m.pending[trigger])
	if len(next) == 0 {
		delete(m.pending, trigger)
		return nil
	}
	m.pending[trigger] = next
	return nil
}

// Fired implements StateStore.
func (m *MemoryStore) Fired(ctx context.Context, key string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.fired[key]
	return ok, nil
}

// MarkFired implements StateStore; the oldest key is forgotten first.
func (m *MemoryStore) MarkFired(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.fired[key]; ok {
		return nil
	}
	if len(m.order) >= m.maxFired {
		delete(m.fired, m.order[0])
		m.order = m.order[1:]
	}
	m.fired[key] = struct{}{}
	m.order = append(m.order, key)
	return nil
}
