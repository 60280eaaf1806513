package host

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/pull"
)

// drainFor reads FLINT_DRAIN: 0 when unset (run until stopped), else how
// long a pull source may drain. Only a pull type can drain: a push source
// has no backlog to work off, and a watch source no end to its changes.
func drainFor(value string, typ sources.Type) (time.Duration, error) {
	return pullDuration(EnvDrain, value, typ, "has no backlog to drain; only pull sources drain")
}

// pullDuration reads the duration the variable env holds for a pull
// source: 0 when unset, an error when it is not positive or, with why, when
// typ is not a pull type.
func pullDuration(env, value string, typ sources.Type, why string) (time.Duration, error) {
	if value == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive duration such as 30s", env, value)
	}
	if typ.Kind != sources.Pull {
		return 0, fmt.Errorf("%s: a %s source (%s) %s", env, typ.Key, typ.Kind, why)
	}
	return d, nil
}

// Drain works off src's backlog through emit, for at most d, and returns:
// how a pull source woken from zero replicas ends once its origin is empty.
// It logs how many events it stored and whether the origin was found empty
// (false: the deadline came first, and the next wake should come soon).
func Drain(ctx context.Context, log *zap.Logger, src sources.Source, emit sources.Emitter, d time.Duration) error {
	drainer, ok := src.(pull.Drainer)
	if !ok {
		return fmt.Errorf("%s: this source cannot drain: it does not run on sources/pull", EnvDrain)
	}
	log.Info("source draining", zap.Duration("for", d))
	got, err := drainer.Drain(ctx, emit, time.Now().Add(d))
	log.Info("source drained", zap.Int64("events", got.Count), zap.Bool("empty", got.Empty))
	if err != nil {
		return fmt.Errorf("draining: %w", err)
	}
	return nil
}
