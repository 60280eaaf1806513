package host

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
)

// EnvHooks, when set, makes Main register or remove the managed hooks of the
// EventSource's entries of its type, then return, serving nothing: the mode
// of the one-shot Jobs `flint compile` writes for a type that manages hooks.
// A source image run without it never touches the hooks.
const EnvHooks = "FLINT_HOOKS"

// The values of EnvHooks.
const (
	// HooksRegister registers the hooks (sources.Hooks.Register).
	HooksRegister = "register"
	// HooksUnregister removes the hooks the EventSource asks to be removed
	// when it goes (sources.Hooks.Unregister).
	HooksUnregister = "unregister"
)

// hookCleanupTimeout bounds the removal of the hooks when flint dev stops.
const hookCleanupTimeout = 30 * time.Second

// NewHooks builds the hooks of es's entries of typeKey; nil Hooks and a nil
// error for a type that manages none.
func NewHooks(typeKey string, es *v1alpha1.EventSource, deps sources.Deps) (sources.Hooks, error) {
	typ, _ := sources.Lookup(typeKey)
	m := typ.Hooks
	if m == nil {
		return nil, nil
	}
	h, err := m.New(es, deps)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// RunHooks runs one EnvHooks mode on the hooks of es's entries of typeKey:
// what a Job does in a cluster, where pods never touch the hooks.
func RunHooks(ctx context.Context, mode, typeKey string, es *v1alpha1.EventSource, deps sources.Deps) error {
	h, err := NewHooks(typeKey, es, deps)
	if err != nil {
		return fmt.Errorf("building the %s hooks of eventsource %s: %w", typeKey, es.Name, err)
	}
	if h == nil {
		return fmt.Errorf("%s=%s: source type %q manages no hooks", EnvHooks, mode, typeKey)
	}
	switch mode {
	case HooksRegister:
		err = h.Register(ctx)
	case HooksUnregister:
		err = h.Unregister(ctx)
	default:
		return fmt.Errorf("%s=%q: want %q or %q", EnvHooks, mode, HooksRegister, HooksUnregister)
	}
	if err != nil {
		return fmt.Errorf("%s %s hooks of eventsource %s: %w", mode, typeKey, es.Name, err)
	}
	return nil
}

// DevHooks is the run `flint dev` adds beside a source whose type manages
// hooks: once ready is closed (the receiver serves the routes the hooks
// deliver to) it registers them, and when ctx ends it removes those the
// EventSource asks to be removed (deleteHookOnFinish), within 30 seconds;
// stopped before ready, it touches nothing.
// A failure is logged, not fatal: deliveries still arrive through hooks made
// by hand. It always returns nil.
func DevHooks(h sources.Hooks, ready <-chan struct{}, log *zap.Logger) func(context.Context) error {
	if log == nil {
		log = zap.NewNop()
	}
	return func(ctx context.Context) error {
		select {
		case <-ready:
		case <-ctx.Done():
			return nil // stopped before serving: nothing was registered
		}
		if err := h.Register(ctx); err != nil {
			log.Error("registering hooks failed", zap.Error(err))
		}
		<-ctx.Done()
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), hookCleanupTimeout)
		defer cancel()
		if err := h.Unregister(cleanup); err != nil {
			log.Error("removing hooks failed", zap.Error(err))
		}
		return nil
	}
}
