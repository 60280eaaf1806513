package sensor

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/flintevents/flint/pkg/event"
)

// StateStore keeps what a sensor remembers between events: for each trigger
// whose condition has an `&&`, the events it is still waiting with, and the
// idempotency keys of the firings that succeeded. One store holds the state
// of one sensor; its methods are safe for concurrent use, also by several
// engine instances sharing one store.
type StateStore interface {
	// UpdatePending replaces the condition state of trigger with what fn
	// returns for the current one (the zero Pending when there is none), as
	// one atomic step. fn may modify and return the value it is given, and
	// may be called more than once (a compare-and-swap store retries on
	// conflict), so it must have no other effect than its result.
	UpdatePending(ctx context.Context, trigger string, fn func(Pending) Pending) error
	// Fired reports whether a firing with this idempotency key succeeded.
	Fired(ctx context.Context, key string) (bool, error)
	// MarkFired records that the firing with this idempotency key succeeded,
	// to be remembered for at least ttl (the store's own default when 0).
	MarkFired(ctx context.Context, key string, ttl time.Duration) error
}

// SettledTTL is how long the idempotency key of a round that succeeded over
// HTTP is kept: its event is acknowledged unless the answer is lost, and then
// the broker delivers it again within its backoff (at most a minute by
// default). A round that failed keeps its keys for the store's default (a
// day for KVStore), as long as the broker retries.
const SettledTTL = 10 * time.Minute

// Pending is the condition state of one trigger.
type Pending struct {
	// Events holds the latest event per dependency name that passed its
	// filters and waits for the condition to hold.
	Events map[string]*event.Event `json:"events,omitempty"`
	// Consumed lists, oldest first, the "dependency:event-id" pairs of the
	// latest events that satisfied the condition (at most MaxConsumed), so
	// that a redelivery of one of them does not wait for a second firing.
	Consumed []string `json:"consumed,omitempty"`
	// Reset is the latest `conditionsReset` tick the state was cleared at;
	// every event in Events was taken in after it.
	Reset time.Time `json:"reset,omitzero"`
}

// IsZero reports whether the state holds nothing, so a store may drop it.
func (p Pending) IsZero() bool {
	return len(p.Events) == 0 && len(p.Consumed) == 0 && p.Reset.IsZero()
}

// MaxConsumed is how many consumed events Pending remembers per trigger.
const MaxConsumed = 256

// DefaultFiredKeys is how many idempotency keys NewMemoryStore remembers.
const DefaultFiredKeys = 4096

// MemoryStore is a StateStore in process memory: condition state is lost on
// restart, and only the latest maxFired idempotency keys are remembered.
type MemoryStore struct {
	mu       sync.Mutex // guards every field below
	pending  map[string]Pending
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
		pending:  map[string]Pending{},
		maxFired: maxFired,
		fired:    make(map[string]struct{}, maxFired),
	}
}

// UpdatePending implements StateStore.
func (m *MemoryStore) UpdatePending(ctx context.Context, trigger string, fn func(Pending) Pending) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	next := fn(m.pending[trigger])
	if next.IsZero() {
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

// MarkFired implements StateStore; the oldest key is forgotten first, and ttl
// is not used: the store is bounded by count.
func (m *MemoryStore) MarkFired(ctx context.Context, key string, _ time.Duration) error {
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

// consumed reports whether the event of dependency d is among the consumed ones.
func (p *Pending) consumed(d string, ev *event.Event) bool {
	return slices.Contains(p.Consumed, d+":"+ev.Context.ID)
}

// consume records the events as consumed, forgetting the oldest beyond MaxConsumed.
func (p *Pending) consume(events map[string]*event.Event) {
	p.Consumed = append(p.Consumed, eventIDs(events)...)
	if over := len(p.Consumed) - MaxConsumed; over > 0 {
		p.Consumed = slices.Delete(p.Consumed, 0, over)
	}
}

// unconsume forgets that the events were consumed, for a firing that failed.
func (p *Pending) unconsume(events map[string]*event.Event) {
	ids := eventIDs(events)
	p.Consumed = slices.DeleteFunc(p.Consumed, func(id string) bool { return slices.Contains(ids, id) })
	if len(p.Consumed) == 0 {
		p.Consumed = nil
	}
}
