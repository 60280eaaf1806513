package sensor

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"

	"github.com/flintevents/flint/pkg/evallimit"
)

// errNoValue is returned when a template renders to "" or "<no value>", which
// Argo Events counts as a failed template.
var errNoValue = errors.New("template evaluated to an empty string or no value")

// Evaluation budget. Every evaluation of user code (Lua scripts and
// transforms, jq transforms, templates of data filters and parameters,
// expression filters) runs under the context of the event and a time limit
// of its own: Options.EvalTimeout, DefaultEvalTimeout when unset. Lua and jq
// stop as soon as the limit passes. Templates and looping expressions run on
// a goroutine of their own that the caller stops waiting for at the limit;
// the goroutine stops too, within one step: a template checks its
// evaluation at each range iteration, template call and bounded function
// (see instrument), an expression at each step of a predicate (see
// evallimit.ExprOptions). Each compiled template or expression lets only a
// few such goroutines run at once, so that slow builtins cannot pile up.
// What the functions of an evaluation may build is bounded too (see
// package evallimit).
const (
	// DefaultEvalTimeout is the time limit of one evaluation of user code
	// when Options.EvalTimeout is zero.
	DefaultEvalTimeout = 500 * time.Millisecond
	// maxTemplateOutput bounds what one template render may write (4 MiB).
	maxTemplateOutput = 4 << 20
	// maxTemplateList bounds the lists sprig's until, untilStep and seq
	// may build in a template.
	maxTemplateList = evallimit.MaxList
)

// ErrEvalTimeout is wrapped by the error of an evaluation of user code that
// outlasted its time limit.
var ErrEvalTimeout = errors.New("evaluation time limit exceeded")

// evalTimeoutKey is the context key of the evaluation time limit.
type evalTimeoutKey struct{}

// withEvalTimeout returns ctx carrying d as the time limit of each
// evaluation of user code; zero or less leaves ctx as is (DefaultEvalTimeout).
func withEvalTimeout(ctx context.Context, d time.Duration) context.Context {
	if d <= 0 {
		return ctx
	}
	return context.WithValue(ctx, evalTimeoutKey{}, d)
}

// evaluation is one evaluation of user code: the caller's context and the
// time limit it carries, counted from the start.
type evaluation struct {
	parent   context.Context
	limit    time.Duration
	deadline time.Time
	ctx      context.Context // made by context() for the runtimes that take one
	cancel   context.CancelFunc
	memory   *memoryGuard // set with ctx
}

// startEval starts the clock of one evaluation; a nil ctx is the background.
// The caller calls done when the evaluation is over.
func startEval(ctx context.Context) *evaluation {
	if ctx == nil {
		ctx = context.Background()
	}
	limit, _ := ctx.Value(evalTimeoutKey{}).(time.Duration)
	if limit <= 0 {
		limit = DefaultEvalTimeout
	}
	return &evaluation{parent: ctx, limit: limit, deadline: time.Now().Add(limit)}
}

// context returns a context that ends with the caller's or when the time
// limit passes, for Lua and jq, which stop when it ends.
func (e *evaluation) context() context.Context {
	if e.ctx == nil {
		e.ctx, e.cancel = context.WithDeadline(e.parent, e.deadline)
		e.memory = guardMemory(e.ctx, e.cancel)
	}
	return e.ctx
}

// done releases the evaluation's resources.
func (e *evaluation) done() {
	if e.cancel != nil {
		e.cancel()
	}
}

// err is why the evaluation stopped: the caller's context error when that
// ended, ErrEvalTimeout with the limit when its own clock ran out, nil
// otherwise.
func (e *evaluation) err() error {
	if err := e.parent.Err(); err != nil {
		return fmt.Errorf("evaluation cancelled: %w", err)
	}
	if e.memory != nil && e.memory.over.Load() {
		return fmt.Errorf("%w (%d MiB)", ErrEvalMemory, e.memory.budget>>20)
	}
	if !time.Now().Before(e.deadline) {
		return fmt.Errorf("%w (%s)", ErrEvalTimeout, e.limit)
	}
	return nil
}

// evalSlots bounds the goroutines of one compiled template or expression
// that run evaluations which cannot be interrupted.
type evalSlots chan struct{}

// newEvalSlots returns the slots of one compiled template or expression:
// twice the number of CPUs, at least 4.
func newEvalSlots() evalSlots {
	return make(evalSlots, max(4, 2*runtime.GOMAXPROCS(0)))
}

// runBounded runs fn, which cannot be interrupted, on a goroutine that holds
// one of slots until fn returns, and waits for it until the evaluation's
// clock runs out or the caller's context ends. When no slot frees in time,
// fn does not run.
func runBounded[T any](e *evaluation, slots evalSlots, fn func() (T, error)) (T, error) {
	var zero T
	timer := time.NewTimer(time.Until(e.deadline))
	defer timer.Stop()
	select {
	case slots <- struct{}{}:
	case <-timer.C:
		return zero, e.err()
	case <-e.parent.Done():
		return zero, e.err()
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-slots }()
		defer func() {
			if r := recover(); r != nil {
				done <- result{err: fmt.Errorf("evaluation panicked: %v", r)}
			}
		}()
		v, err := fn()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-timer.C:
		return zero, e.err()
	case <-e.parent.Done():
		return zero, e.err()
	}
}

// userTemplate is a compiled Go text/template with the sprig functions,
// instrumented (see instrument), the slots of its renders, and clones of it
// bound to the state of one render at a time.
type userTemplate struct {
	tmpl  *template.Template
	slots evalSlots
	runs  sync.Pool // of *templateRun
}

// templateRun is a clone of a template whose bounded functions see st.
type templateRun struct {
	tmpl *template.Template
	st   *renderState
}

// run returns a clone of t for one render.
func (t *userTemplate) run() (*templateRun, error) {
	if r, ok := t.runs.Get().(*templateRun); ok {
		return r, nil
	}
	c, err := t.tmpl.Clone()
	if err != nil {
		return nil, err
	}
	st := &renderState{}
	c.Funcs(boundTemplateFuncs(st))
	return &templateRun{tmpl: c, st: st}, nil
}

// templateFuncs is the function map of every template: sprig, as in Argo
// Events, without env and expandenv so that templates cannot read the
// process environment (where flint keeps secrets), and with the functions
// that build strings or lists of any size bounded. Built once, never modified.
var templateFuncs = sync.OnceValue(func() template.FuncMap {
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["until"] = func(n int) ([]int, error) { return boundedUntilStep(0, n, 1) }
	funcs["untilStep"] = boundedUntilStep
	seq := funcs["seq"].(func(...int) string)
	funcs["seq"] = func(params ...int) (string, error) {
		if err := checkSeq(params); err != nil {
			return "", err
		}
		return seq(params...), nil
	}
	return funcs
})

// boundedUntilStep is sprig's untilStep, refusing lists over maxTemplateList.
func boundedUntilStep(start, stop, step int) ([]int, error) {
	if step == 0 || (stop > start) != (step > 0) {
		return []int{}, nil
	}
	if n := (int64(stop) - int64(start)) / int64(step); n > maxTemplateList {
		return nil, fmt.Errorf("untilStep: the list would exceed %d elements", maxTemplateList)
	}
	out := []int{}
	for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
		out = append(out, i)
	}
	return out, nil
}

// checkSeq refuses the seq calls that would count more than maxTemplateList numbers.
func checkSeq(params []int) error {
	var first, step, last int64 = 1, 1, 0
	switch len(params) {
	case 1:
		last = int64(params[0])
	case 2:
		first, last = int64(params[0]), int64(params[1])
		if last < first {
			step = -1
		}
	case 3:
		first, step, last = int64(params[0]), int64(params[1]), int64(params[2])
	default:
		return nil
	}
	if step == 0 {
		return nil
	}
	if n := (last - first) / step; n > maxTemplateList {
		return fmt.Errorf("seq: the sequence would exceed %d numbers", maxTemplateList)
	}
	return nil
}

// compileTemplate parses a Go text/template with the sprig functions.
func compileTemplate(name, text string) (*userTemplate, error) {
	t, err := template.New(name).Funcs(templateFuncs()).Parse(text)
	if err != nil {
		return nil, err
	}
	instrument(t)
	return &userTemplate{tmpl: t, slots: newEvalSlots()}, nil
}

// renderTemplate executes t with {"Input": input} as Argo Events does,
// within the evaluation budget and at most maxTemplateOutput bytes; an empty
// or "<no value>" result is errNoValue.
func renderTemplate(ctx context.Context, t *userTemplate, input any) (string, error) {
	e := startEval(ctx)
	defer e.done()
	out, err := runBounded(e, t.slots, func() (string, error) {
		r, err := t.run()
		if err != nil {
			return "", err
		}
		r.st.eval, r.st.budget, r.st.err = e, evallimit.Budget{}, nil
		defer func() {
			r.st.eval = nil
			t.runs.Put(r)
		}()
		w := &limitedWriter{eval: e}
		if err := r.tmpl.Execute(w, map[string]any{"Input": input}); err != nil {
			if w.err != nil {
				return "", w.err
			}
			if r.st.err != nil {
				return "", r.st.err
			}
			return "", err
		}
		return w.b.String(), nil
	})
	if err != nil {
		return "", err
	}
	if out == "" || out == "<no value>" {
		return "", errNoValue
	}
	return out, nil
}

// limitedWriter collects a template's output and fails the render at the
// first write after its evaluation stopped or beyond maxTemplateOutput.
type limitedWriter struct {
	eval *evaluation
	b    strings.Builder
	err  error
}

// Write implements io.Writer.
func (w *limitedWriter) Write(p []byte) (int, error) {
	switch {
	case w.err != nil:
	case w.eval.err() != nil:
		w.err = w.eval.err()
	case w.b.Len()+len(p) > maxTemplateOutput:
		w.err = fmt.Errorf("template output exceeds %d bytes", maxTemplateOutput)
	default:
		return w.b.Write(p)
	}
	return 0, w.err
}
