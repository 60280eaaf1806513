package sourcetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/flintevents/flint/sources"
)

// PullBackend is the origin of a pull source type (a queue, a topic, a
// stream) as the type's conformance test provides it: a real server the test
// started, which it can stop and start again.
type PullBackend interface {
	// Source builds a new source reading the origin; every source it builds
	// reads the same origin (queue, consumer group, durable subscription),
	// so that a second one takes over what the first left.
	Source(t *testing.T) sources.Source
	// Publish sends one message per body, in order, and returns once the
	// origin holds them.
	Publish(ctx context.Context, bodies []string) error
	// Body is the published body an event carries, read from its event data.
	Body(ev sources.Event) (string, error)
	// StopBroker stops the origin's server abruptly; what it holds survives.
	StopBroker(t *testing.T)
	// StartBroker starts the stopped server again on the same address.
	StartBroker(t *testing.T)
}

// Sizes and bounds of RunPull.
const (
	// PullMessages is how many messages each RunPull stage publishes.
	PullMessages = 300
	// PullWait bounds how long a stage waits for every message to arrive.
	PullWait = 60 * time.Second
	// PullStop bounds how long a source may take to return after its
	// context ends.
	PullStop = 10 * time.Second
)

// RunPull runs the conformance suite of a pull source type against b, its
// stages one after another on the same origin. Each publishes PullMessages
// messages and runs sources whose emitter refuses one event in ten at random
// and stores some without confirming them, until every body arrived:
//   - "source killed": the source is cancelled abruptly with emits in
//     flight once a third arrived, and a new source takes over;
//   - "broker stopped": the broker is stopped once a third arrived, started
//     again, and more messages are published.
//
// Each checks that nothing was lost and that a body arrived twice only under
// the same event id (so the broker's dedupe drops the copy), and that no two
// bodies share an id.
func RunPull(t *testing.T, b PullBackend) {
	t.Helper()
	t.Run("source killed mid-stream", func(t *testing.T) {
		bodies := pullBodies("kill", PullMessages)
		l := newLedger(b, bodies)
		if err := b.Publish(t.Context(), bodies); err != nil {
			t.Fatalf("publishing: %v", err)
		}
		first := startPull(t, b.Source(t), l.Emit)
		l.waitFor(t, PullMessages/3)
		first.kill(t)
		second := startPull(t, b.Source(t), l.Emit)
		l.waitFor(t, PullMessages)
		second.kill(t)
		l.check(t)
	})
	t.Run("broker stopped mid-stream", func(t *testing.T) {
		bodies := pullBodies("stop", PullMessages)
		more := pullBodies("after", PullMessages/3)
		l := newLedger(b, append(append([]string(nil), bodies...), more...))
		if err := b.Publish(t.Context(), bodies); err != nil {
			t.Fatalf("publishing: %v", err)
		}
		src := startPull(t, b.Source(t), l.Emit)
		l.waitFor(t, PullMessages/3)
		b.StopBroker(t)
		time.Sleep(500 * time.Millisecond)
		b.StartBroker(t)
		if err := b.Publish(t.Context(), more); err != nil {
			t.Fatalf("publishing after the restart: %v", err)
		}
		l.waitFor(t, len(bodies)+len(more))
		src.kill(t)
		l.check(t)
	})
}

func pullBodies(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%05d", prefix, i+1)
	}
	return out
}

// runningPull is a source running on a goroutine.
type runningPull struct {
	cancel context.CancelFunc
	done   chan error
}

func startPull(t *testing.T, src sources.Source, emit sources.Emitter) *runningPull {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningPull{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- src.Run(ctx, emit) }()
	t.Cleanup(func() { r.kill(t) })
	return r
}

// kill cancels the source and waits for Run to return.
func (r *runningPull) kill(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok && err != nil {
			t.Errorf("the source returned %v after its context ended, want nil", err)
		}
		if ok {
			close(r.done)
		}
	case <-time.After(PullStop):
		t.Errorf("the source did not return %v after its context ended", PullStop)
	}
}

// delivered is one stored event: the body it carries and its id.
type delivered struct {
	body, id string
}

// ledger is the emitter of RunPull, standing in for the broker: it refuses
// one event in ten, and stores an event whose context ended meanwhile
// without confirming it (sources.NotConfirmed), as a broker whose answer
// came too late.
type ledger struct {
	backend PullBackend
	want    map[string]bool

	mu     sync.Mutex
	stored []delivered
	seen   map[string]bool
	bad    []string
	signal chan struct{}
}

func newLedger(b PullBackend, bodies []string) *ledger {
	want := make(map[string]bool, len(bodies))
	for _, s := range bodies {
		want[s] = true
	}
	return &ledger{backend: b, want: want, seen: map[string]bool{}, signal: make(chan struct{}, 1)}
}

// Emit implements sources.Emitter.
func (l *ledger) Emit(ctx context.Context, ev sources.Event) error {
	time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
	if rand.IntN(10) == 0 {
		return errors.New("refused at random by the conformance emitter")
	}
	body, err := l.backend.Body(ev)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.bad = append(l.bad, fmt.Sprintf("event %q: reading its body: %v", ev.ID, err))
		return nil
	}
	if !l.want[body] {
		return nil // left over from an earlier stage
	}
	l.stored = append(l.stored, delivered{body: body, id: ev.ID})
	l.seen[body] = true
	select {
	case l.signal <- struct{}{}:
	default:
	}
	if ctx.Err() != nil {
		return sources.NotConfirmed(ctx.Err())
	}
	return nil
}

// waitFor waits until n distinct wanted bodies arrived, or fails.
func (l *ledger) waitFor(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(PullWait)
	for {
		l.mu.Lock()
		got := len(l.seen)
		l.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-l.signal:
		case <-time.After(10 * time.Millisecond):
		case <-timeout:
			t.Fatalf("%d of %d messages arrived in %v", got, n, PullWait)
		}
	}
}

// check fails t for each loss, each body stored under two ids, and each id
// shared by two bodies.
func (l *ledger) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	want := make([]string, 0, len(l.want))
	for b := range l.want {
		want = append(want, b)
	}
	sort.Strings(want)
	problems := append(append([]string(nil), l.bad...), deliveryProblems(want, l.stored)...)
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d bodies, %d events stored (%d duplicates under their id)", len(want), len(l.stored), len(l.stored)-len(l.seen))
}

// deliveryProblems lists what is wrong with the events stored for the wanted
// bodies: a body missing, a body stored under more than one id, an event
// without id, and an id two bodies share (the broker would drop one).
func deliveryProblems(want []string, stored []delivered) []string {
	ids := map[string]map[string]bool{}    // body → ids
	bodies := map[string]map[string]bool{} // id → bodies
	var problems []string
	for _, d := range stored {
		if d.id == "" {
			problems = append(problems, fmt.Sprintf("body %s stored without an event id", d.body))
			continue
		}
		if ids[d.body] == nil {
			ids[d.body] = map[string]bool{}
		}
		ids[d.body][d.id] = true
		if bodies[d.id] == nil {
			bodies[d.id] = map[string]bool{}
		}
		bodies[d.id][d.body] = true
	}
	for _, b := range want {
		switch n := len(ids[b]); {
		case n == 0:
			problems = append(problems, fmt.Sprintf("body %s lost", b))
		case n > 1:
			problems = append(problems, fmt.Sprintf("body %s stored under %d ids %v: the broker keeps each copy", b, n, sortedKeys(ids[b])))
		}
	}
	var shared []string
	for id, bs := range bodies {
		if len(bs) > 1 {
			shared = append(shared, fmt.Sprintf("id %s carries %d bodies %v: the broker drops all but one", id, len(bs), sortedKeys(bs)))
		}
	}
	sort.Strings(shared)
	return append(problems, shared...)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
