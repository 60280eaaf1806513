package pull_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/pull"
)

// broker is the emitter of the tests, standing in for flint's broker: it
// keeps the events it stored by id, and refuses those refuse says to.
type broker struct {
	refuse func(ev sources.Event, attempt int) error
	// unconfirmed stores an event even when ctx ended, and then reports
	// ctx's error, as a broker whose confirmation did not arrive in time.
	unconfirmed bool

	mu       sync.Mutex
	stored   map[string][]sources.Event
	attempts map[string]int
}

func newBroker() *broker {
	return &broker{stored: map[string][]sources.Event{}, attempts: map[string]int{}}
}

func (b *broker) Emit(ctx context.Context, ev sources.Event) error {
	b.mu.Lock()
	n := b.attempts[ev.ID]
	b.attempts[ev.ID]++
	b.mu.Unlock()
	if b.refuse != nil {
		if err := b.refuse(ev, n); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil && !b.unconfirmed {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stored[ev.ID] = append(b.stored[ev.ID], ev)
	return ctx.Err()
}

// has reports whether the event of id is stored.
func (b *broker) has(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.stored[id]) > 0
}

// count is how many distinct ids are stored.
func (b *broker) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.stored)
}

// ackOnlyStored makes q fail the test when a message is acknowledged before
// b stored its event.
func ackOnlyStored(t *testing.T, q *fakeQueue, b *broker) {
	q.onAck = func(id string) error {
		if !b.has(id) {
			t.Errorf("%s acknowledged before its event was stored", id)
		}
		return nil
	}
}

func bodies(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%04d", prefix, i+1)
	}
	return out
}

// runUntil runs pull.Run on q until cond holds (or 10s pass), then cancels
// it and waits for it to return.
func runUntil(t *testing.T, q *fakeQueue, emit sources.Emitter, opts pull.Options, cond func() bool) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = zaptest.NewLogger(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pull.Run(ctx, q.Dial, emit, opts) }()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatal("condition not met after 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return 5s after cancel")
	}
}

func TestRunEmitsAndAcksAfterStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ordered bool
	}{
		{name: "each on its own"},
		{name: "ordered", ordered: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := newFakeQueue()
			b := newBroker()
			// Every third event is refused on its first try.
			b.refuse = func(ev sources.Event, attempt int) error {
				var seq int
				_, _ = fmt.Sscanf(ev.ID, "q/%d", &seq)
				if seq%3 == 0 && attempt == 0 {
					return errors.New("store full")
				}
				return nil
			}
			ackOnlyStored(t, q, b)
			q.Publish(bodies("m", 100)...)
			opts := pull.Options{Name: "example", Ordered: tt.ordered, InFlight: 8, Retry: pull.Schedule{First: time.Millisecond, Max: 5 * time.Millisecond, Factor: 2}}
			runUntil(t, q, b.Emit, opts, func() bool { acked, _, _ := q.counts(); return len(acked) == 100 })

			acked, _, _ := q.counts()
			for i, body := range bodies("m", 100) {
				id := fmt.Sprintf("q/%d", i+1)
				if acked[id] != 1 {
					t.Errorf("%s acked %d times, want 1", id, acked[id])
				}
				evs := b.stored[id]
				if len(evs) == 0 {
					t.Errorf("no event stored under the natural id %s", id)
					continue
				}
				ev := evs[0]
				var data struct{ Body string }
				if err := json.Unmarshal(ev.Data, &data); err != nil || data.Body != body || ev.Name != "example" {
					t.Errorf("event %s = name %q data %s, want name example and body %s", id, ev.Name, ev.Data, body)
				}
			}
			if q.waiting() != 0 {
				t.Errorf("%d messages still wait at the origin", q.waiting())
			}
		})
	}
}

func TestRunHandsBackWhatIsNotStored(t *testing.T) {
	t.Parallel()
	q := newFakeQueue()
	b := newBroker()
	// q/2 is refused 4 times: 3 attempts, a Nack, then stored on redelivery.
	b.refuse = func(ev sources.Event, attempt int) error {
		if ev.ID == "q/2" && attempt < 4 {
			return errors.New("store full")
		}
		return nil
	}
	ackOnlyStored(t, q, b)
	q.Publish(bodies("m", 5)...)
	opts := pull.Options{Name: "example", Attempts: 3, Retry: pull.Schedule{First: time.Millisecond, Factor: 2}}
	runUntil(t, q, b.Emit, opts, func() bool { acked, _, _ := q.counts(); return len(acked) == 5 })

	acked, nacked, delivered := q.counts()
	if nacked["q/2"] != 1 || delivered["q/2"] != 2 || acked["q/2"] != 1 {
		t.Errorf("q/2: nacked %d, delivered %d, acked %d; want 1, 2, 1", nacked["q/2"], delivered["q/2"], acked["q/2"])
	}
	for _, id := range []string{"q/1", "q/3", "q/4", "q/5"} {
		if nacked[id] != 0 || acked[id] != 1 {
			t.Errorf("%s: nacked %d, acked %d; want 0, 1 (not held up by q/2)", id, nacked[id], acked[id])
		}
	}
}

func TestRunOrderedAcksInLaneOrder(t *testing.T) {
	t.Parallel()
	q := newFakeQueue()
	b := newBroker()
	// The first message is refused a few times: the later ones are stored
	// first but must be acked after it.
	b.refuse = func(ev sources.Event, attempt int) error {
		if ev.ID == "q/1" && attempt < 5 {
			return errors.New("store full")
		}
		return nil
	}
	ackOnlyStored(t, q, b)
	q.Publish(bodies("m", 20)...)
	opts := pull.Options{Name: "example", Ordered: true, Attempts: 1, Retry: pull.Schedule{First: 2 * time.Millisecond}}
	runUntil(t, q, b.Emit, opts, func() bool { acked, _, _ := q.counts(); return len(acked) == 20 })

	q.mu.Lock()
	order := slices.Clone(q.ackOrder)
	q.mu.Unlock()
	want := make([]string, 20)
	for i := range want {
		want[i] = fmt.Sprintf("q/%d", i+1)
	}
	if !slices.Equal(order, want) {
		t.Errorf("ack order %v, want %v", order, want)
	}
	if _, nacked, _ := q.counts(); len(nacked) != 0 {
		t.Errorf("ordered: nacked %v, want none (a failed emit is retried in place)", nacked)
	}
}

func TestRunCancelMidStreamAcksOnlyStored(t *testing.T) {
	t.Parallel()
	q := newFakeQueue()
	b := newBroker()
	// Emits take a while, so that many are in flight at the cancel; some
	// store and then report the cancel, as a broker that stored an event
	// whose confirmation did not arrive.
	b.unconfirmed = true
	b.refuse = func(ev sources.Event, _ int) error {
		time.Sleep(3 * time.Millisecond)
		return nil
	}
	ackOnlyStored(t, q, b)
	q.Publish(bodies("m", 200)...)
	opts := pull.Options{Name: "example", InFlight: 16}
	runUntil(t, q, b.Emit, opts, func() bool { return b.count() >= 50 })

	acked, _, _ := q.counts()
	if len(acked) == 200 {
		t.Fatal("everything was acked before the cancel; the test proves nothing")
	}
	if got, want := q.waiting(), 200-len(acked); got != want {
		t.Errorf("%d messages wait at the origin after the cancel, want %d (200 - %d acked)", got, want, len(acked))
	}
	// A second run on the same origin brings the rest.
	runUntil(t, q, b.Emit, opts, func() bool { acked, _, _ := q.counts(); return len(acked) == 200 })
	if b.count() != 200 {
		t.Errorf("%d distinct events stored, want 200", b.count())
	}
}

func TestRunReconnectsWhenReceiveFails(t *testing.T) {
	t.Parallel()
	q := newFakeQueue()
	q.failReceive = 2
	b := newBroker()
	ackOnlyStored(t, q, b)
	q.Publish(bodies("m", 10)...)
	opts := pull.Options{Name: "example", Reconnect: pull.Schedule{First: time.Millisecond, Factor: 2}}
	runUntil(t, q, b.Emit, opts, func() bool { acked, _, _ := q.counts(); return len(acked) == 10 })
	q.mu.Lock()
	dials := q.dials
	q.mu.Unlock()
	if dials != 3 {
		t.Errorf("dialed %d times, want 3 (two Receives failed)", dials)
	}
}

func TestRunReconnectsAcrossABrokerStop(t *testing.T) {
	t.Parallel()
	q := newFakeQueue()
	b := newBroker()
	ackOnlyStored(t, q, b)
	q.Publish(bodies("m", 10)...)
	opts := pull.Options{Name: "example", Reconnect: pull.Schedule{First: 5 * time.Millisecond, Max: 20 * time.Millisecond, Factor: 2}}
	stopped := false
	runUntil(t, q, b.Emit, opts, func() bool {
		acked, _, _ := q.counts()
		if !stopped && len(acked) == 10 {
			q.Stop()
			stopped = true
			go func() {
				time.Sleep(50 * time.Millisecond)
				q.Publish(bodies("n", 10)...)
				q.Start()
			}()
		}
		return len(acked) == 20
	})
}

func TestRunGivesUpAfterReconnectSteps(t *testing.T) {
	t.Parallel()
	q := newFakeQueue()
	q.Stop()
	opts := pull.Options{Name: "example", Logger: zaptest.NewLogger(t), Reconnect: pull.Schedule{First: time.Millisecond, Steps: 3}}
	err := pull.Run(context.Background(), q.Dial, newBroker().Emit, opts)
	if err == nil || q.dials != 3 {
		t.Fatalf("Run = %v after %d dials; want an error after 3", err, q.dials)
	}
}

func TestScheduleWait(t *testing.T) {
	t.Parallel()
	s := pull.Schedule{First: 100 * time.Millisecond, Max: time.Second, Factor: 3}
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, 100 * time.Millisecond},
		{1, 300 * time.Millisecond},
		{2, 900 * time.Millisecond},
		{3, time.Second},
		{50, time.Second},
	}
	for _, tt := range tests {
		if got := s.Wait(tt.n); got != tt.want {
			t.Errorf("Wait(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
	j := pull.Schedule{First: 100 * time.Millisecond, Jitter: 0.5}
	for range 20 {
		if got := j.Wait(0); got < 100*time.Millisecond || got > 150*time.Millisecond {
			t.Fatalf("jittered Wait(0) = %v, want within [100ms, 150ms]", got)
		}
	}
}

// recorder counts the events an emitter stored by name.
type recorder struct {
	mu     sync.Mutex
	byName map[string]int
}

func (r *recorder) emit(next *broker) sources.Emitter {
	return func(ctx context.Context, ev sources.Event) error {
		if err := next.Emit(ctx, ev); err != nil {
			return err
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.byName == nil {
			r.byName = map[string]int{}
		}
		r.byName[ev.Name]++
		return nil
	}
}

func (r *recorder) names() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps(r.byName)
}
