package sources

import (
	"context"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// Hooks are the managed hooks of one EventSource's entries of one type: the
// subscriptions a service (GitHub, GitLab, Stripe, …) is asked to deliver to
// the entries' public URL. Who runs them depends on where the source runs:
// `flint dev` registers them when it starts and removes them when it stops;
// in a cluster a pod never touches them, a one-shot Job that `flint compile`
// writes registers them, and another removes them when the EventSource is
// taken down (see the host's FLINT_HOOKS mode).
type Hooks interface {
	// Register makes every managed hook exist and deliver as the entries say:
	// a hook already delivering to the entry's URL is updated, else one is
	// created, so running it twice leaves one hook. It tries every hook and
	// returns the failures joined.
	Register(ctx context.Context) error
	// Unregister removes the hooks of the entries that ask for their hook to
	// go when the source does (github: deleteHookOnFinish); a hook already
	// gone is no failure. It tries every hook and returns the failures joined.
	Unregister(ctx context.Context) error
}

// HookManager is what a type that manages hooks registers (ManagesHooks).
type HookManager struct {
	// Wants reports, without I/O, whether es's entries of the type ask for a
	// hook to be registered, and whether one of those asks for its hook to be
	// removed when the source goes. `flint compile` reads it to decide which
	// Jobs to write.
	Wants func(es *v1alpha1.EventSource) (register, remove bool)
	// New builds the hooks of es's entries of the type, from an EventSource
	// that is defaulted and validated, without I/O; problems are
	// *apis.FieldError with full paths. It registers no routes.
	New func(es *v1alpha1.EventSource, deps Deps) (Hooks, error)
}

// ManagesHooks marks a type whose entries can ask a service to deliver to
// them (a hook, a subscription): m says which do and builds their Hooks.
func ManagesHooks(m HookManager) Option {
	return func(t *Type) { t.Hooks = &m }
}
