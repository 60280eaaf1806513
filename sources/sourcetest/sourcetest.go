// Package sourcetest holds what the tests of every source type share: a
// recording emitter, a harness that runs a source on a loopback receiver, and
// the conformance suite every source package runs (Run).
package sourcetest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/manifest"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/receiver"
)

// Recorder is an Emitter that keeps the events it stored. When Refuse is set
// and returns an error for an event, the event is refused with that error.
type Recorder struct {
	Refuse func(sources.Event) error

	mu     sync.Mutex
	events []sources.Event
}

// Emit implements sources.Emitter.
func (r *Recorder) Emit(_ context.Context, ev sources.Event) error {
	if r.Refuse != nil {
		if err := r.Refuse(ev); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

// Take returns the events stored since the last Take.
func (r *Recorder) Take() []sources.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// Running is a source and its receiver running on 127.0.0.1.
type Running struct {
	Receiver *receiver.Receiver
	Source   sources.Source

	cancel  context.CancelFunc
	srcDone chan error
	rcvDone chan error
	stopped bool
	err     error
}

// Start builds the source with factory, runs it with its receiver until the
// test ends, and waits until the receiver's ports are bound. When deps has no
// Receiver, one on 127.0.0.1 resolving deps.Secrets is made; when it has no
// Logger, the test's logger is used.
func Start(t testing.TB, factory sources.Factory, es *v1alpha1.EventSource, deps sources.Deps, emit sources.Emitter) *Running {
	t.Helper()
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
		if tt, ok := t.(*testing.T); ok {
			deps.Logger = zaptest.NewLogger(tt)
		}
	}
	if deps.Receiver == nil {
		deps.Receiver = NewReceiver(deps, 0)
	}
	src, err := factory(es, deps)
	if err != nil {
		t.Fatalf("building the source: %v", err)
	}
	return StartBuilt(t, deps.Receiver, src, emit)
}

// NewReceiver returns a receiver on 127.0.0.1 with deps' secrets and logger
// and the given shutdown timeout (the default when zero).
func NewReceiver(deps sources.Deps, shutdownTimeout time.Duration) *receiver.Receiver {
	return receiver.New(receiver.Options{Host: "127.0.0.1", Secrets: deps.Secrets, Logger: deps.Logger, ShutdownTimeout: shutdownTimeout})
}

// StartBuilt runs an already built source and its receiver until the test
// ends and waits until the receiver's ports are bound.
func StartBuilt(t testing.TB, rcv *receiver.Receiver, src sources.Source, emit sources.Emitter) *Running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{Receiver: rcv, Source: src, cancel: cancel, srcDone: make(chan error, 1), rcvDone: make(chan error, 1)}
	go func() { r.rcvDone <- rcv.Run(ctx) }()
	go func() { r.srcDone <- src.Run(ctx, emit) }()
	select {
	case <-rcv.Ready():
	case err := <-r.rcvDone:
		cancel()
		<-r.srcDone
		t.Fatalf("receiver stopped before ready: %v", err)
	case err := <-r.srcDone:
		cancel()
		<-r.rcvDone
		t.Fatalf("source stopped before its receiver was ready: %v", err)
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("receiver not ready after 5s")
	}
	t.Cleanup(func() {
		if err := r.Stop(10 * time.Second); err != nil {
			t.Errorf("stopping: %v", err)
		}
	})
	return r
}

// URL is the http URL of path on a port as the EventSource names it.
func (r *Running) URL(port, path string) string {
	return "http://" + r.Receiver.Addr(port).String() + path
}

// Cancel ends the context of the source and the receiver without waiting.
func (r *Running) Cancel() { r.cancel() }

// Stop cancels the source and the receiver and waits up to within for both to
// return; it returns the first error either returned, or a timeout. Stop may
// be called more than once.
func (r *Running) Stop(within time.Duration) error {
	if r.stopped {
		return r.err
	}
	r.stopped = true
	r.cancel()
	deadline := time.After(within)
	var errs []error
	for _, c := range []chan error{r.srcDone, r.rcvDone} {
		select {
		case err := <-c:
			errs = append(errs, err)
		case <-deadline:
			errs = append(errs, errors.New("did not return after cancel"))
		}
	}
	r.err = errors.Join(errs...)
	return r.err
}

// Load reads one EventSource from a YAML file, strictly decoded and
// defaulted but not validated (tests bind port "0", which validation refuses).
func Load(t testing.TB, path string) *v1alpha1.EventSource {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set, err := manifest.LoadReader(bytes.NewReader(b), path)
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	ess := set.EventSources()
	if len(ess) != 1 {
		t.Fatalf("%s holds %d EventSources, want 1", path, len(ess))
	}
	ess[0].SetDefaults(context.Background())
	return ess[0]
}

// Case describes one source type to the conformance suite.
type Case struct {
	// Factory builds the source type (usually the registered one).
	Factory sources.Factory
	// Deps are given to the factory; Receiver and Logger are filled when nil.
	Deps sources.Deps
	// Valid is the YAML file of an EventSource the type builds and runs.
	Valid string
	// Invalid maps YAML files of EventSources the factory must refuse to the
	// field path its *apis.FieldError must name, e.g. "spec.webhook[a].endpoint".
	Invalid map[string]string
	// Trigger sends input the running source must turn into exactly one event,
	// and checks what the sender was answered.
	Trigger func(t *testing.T, r *Running)
	// Check checks the emitted event (the name and data).
	Check func(t *testing.T, ev sources.Event)
	// Reject sends bad input the running source must refuse without emitting,
	// and checks what the sender was answered.
	Reject func(t *testing.T, r *Running)
}

// Run runs the conformance suite: the valid EventSource builds; every invalid
// one fails with a *apis.FieldError naming the expected path; the right input
// emits one event that Check accepts; bad input emits nothing; the source and
// its receiver return soon after their context ends and release their ports.
func Run(t *testing.T, c Case) {
	t.Helper()
	t.Run("builds", func(t *testing.T) {
		t.Parallel()
		deps := c.Deps
		deps.Receiver = NewReceiver(deps, 0)
		if _, err := c.Factory(Load(t, c.Valid), deps); err != nil {
			t.Fatalf("building %s: %v", c.Valid, err)
		}
	})
	t.Run("rejects invalid", func(t *testing.T) {
		t.Parallel()
		if len(c.Invalid) == 0 {
			t.Fatal("the case lists no invalid EventSource")
		}
		for file, path := range c.Invalid {
			deps := c.Deps
			deps.Receiver = NewReceiver(deps, 0)
			_, err := c.Factory(Load(t, file), deps)
			var fe *apis.FieldError
			if !errors.As(err, &fe) {
				t.Errorf("%s: error %v (%T), want a *apis.FieldError", file, err, err)
				continue
			}
			if !containsPath(fe, path) {
				t.Errorf("%s: error %q does not name %s", file, fe.Error(), path)
			}
		}
	})
	t.Run("emits", func(t *testing.T) {
		t.Parallel()
		rec := &Recorder{}
		r := Start(t, c.Factory, Load(t, c.Valid), c.Deps, rec.Emit)
		c.Trigger(t, r)
		evs := rec.Take()
		if len(evs) != 1 {
			t.Fatalf("emitted %d events, want 1", len(evs))
		}
		c.Check(t, evs[0])
	})
	t.Run("rejects bad input", func(t *testing.T) {
		t.Parallel()
		rec := &Recorder{}
		r := Start(t, c.Factory, Load(t, c.Valid), c.Deps, rec.Emit)
		c.Reject(t, r)
		if evs := rec.Take(); len(evs) != 0 {
			t.Fatalf("emitted %d events on bad input, want none", len(evs))
		}
	})
	t.Run("stops on cancel and releases its ports", func(t *testing.T) {
		t.Parallel()
		rec := &Recorder{}
		r := Start(t, c.Factory, Load(t, c.Valid), c.Deps, rec.Emit)
		addr := r.Receiver.Addr("0")
		if err := r.Stop(5 * time.Second); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if addr == nil {
			return
		}
		ln, err := net.Listen("tcp", addr.String())
		if err != nil {
			t.Fatalf("port %s not released: %v", addr, err)
		}
		_ = ln.Close()
	})
}

func containsPath(fe *apis.FieldError, path string) bool {
	for _, e := range fe.WrappedErrors() {
		for _, p := range e.Paths {
			if p == path {
				return true
			}
		}
	}
	return false
}
