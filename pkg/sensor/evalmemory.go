package sensor

import (
	"context"
	"errors"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// DefaultEvalMemory is how much the heap may grow while one Lua or jq
// evaluation runs before the evaluation is stopped (256 MiB).
const DefaultEvalMemory = 256 << 20

// ErrEvalMemory is wrapped by the error of a Lua or jq evaluation stopped
// because the heap grew past its memory budget while it ran.
var ErrEvalMemory = errors.New("evaluation memory budget exceeded")

// evalMemoryPeriod is how often a running evaluation's memory is checked.
const evalMemoryPeriod = 10 * time.Millisecond

// heapObjects is the runtime metric a memory guard reads: the bytes of live
// and not yet swept heap objects.
const heapObjects = "/memory/classes/heap/objects:bytes"

// evalMemoryKey is the context key of the evaluation memory budget.
type evalMemoryKey struct{}

// withEvalMemory returns ctx carrying n as the memory budget of each Lua or
// jq evaluation; zero or less leaves ctx as is (DefaultEvalMemory).
func withEvalMemory(ctx context.Context, n int64) context.Context {
	if n <= 0 {
		return ctx
	}
	return context.WithValue(ctx, evalMemoryKey{}, n)
}

// memoryGuard stops an evaluation whose run grows the heap past a budget:
// Go cannot account memory per goroutine, so the growth of the whole heap
// since the evaluation started stands for it. A Lua table fill or a jq
// `[range(1e9)]` is stopped within a few milliseconds instead of taking the
// process down; the runtimes check their context as they run.
type memoryGuard struct {
	budget int64
	over   atomic.Bool
}

// guardMemory watches the heap until ctx ends and calls stop once it grew by
// more than the budget ctx carries.
func guardMemory(ctx context.Context, stop context.CancelFunc) *memoryGuard {
	budget, _ := ctx.Value(evalMemoryKey{}).(int64)
	if budget <= 0 {
		budget = DefaultEvalMemory
	}
	g := &memoryGuard{budget: budget}
	sample := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	go func() {
		tick := time.NewTicker(evalMemoryPeriod)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				metrics.Read(sample)
				if now := sample[0].Value.Uint64(); now > base && int64(now-base) > budget {
					g.over.Store(true)
					stop()
					return
				}
			}
		}
	}()
	return g
}
