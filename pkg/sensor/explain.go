package sensor

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/triggers"
)

// CheckResult is the outcome of one filter check.
type CheckResult string

// The outcomes of a filter check.
const (
	// CheckPass means the filter passed the event.
	CheckPass CheckResult = "pass"
	// CheckFail means the filter did not pass the event.
	CheckFail CheckResult = "fail"
	// CheckError means the filter could not be evaluated (a missing path,
	// data that is not JSON, a script error); the event does not pass it.
	CheckError CheckResult = "error"
)

// FilterCheck is what one filter that ran on an event found: which filter,
// the path it read, the value found there and what it was compared with.
type FilterCheck struct {
	// Filter is the filter's place in the dependency, e.g. `filters.data[0]`,
	// `filters.context.type`, `filters.time`, `filters.exprs[1]`, `filters.script`.
	Filter string `json:"filter"`
	// Path is the data path (a gjson path; for exprs the paths of its
	// fields) or the context attribute read; empty when the filter reads none.
	Path string `json:"path,omitempty"`
	// Type is a data filter's type (string, number, bool).
	Type string `json:"type,omitempty"`
	// Found is the value found, as JSON (shortened when long); for exprs the
	// fields bound, `name=value, …`.
	Found string `json:"found,omitempty"`
	// Comparator is how Found was compared with Want (`=`, `!=`, `>`, `in`, …).
	Comparator string `json:"comparator,omitempty"`
	// Want is what Found was compared with, e.g. `[hello hey]`.
	Want string `json:"want,omitempty"`
	// Result is pass, fail or error.
	Result CheckResult `json:"result"`
	// Message says it in one line, e.g.
	// `data filter body.message: "goodbye" does not match [hello hey]`.
	Message string `json:"message"`
}

// String is the check's result and message, e.g. `fail  data filter body.message: …`.
func (c FilterCheck) String() string {
	return fmt.Sprintf("%-5s %s", c.Result, c.Message)
}

// noDataCheck explains a filter kind that passes an event without data.
func noDataCheck(filter, kind string) FilterCheck {
	return FilterCheck{Filter: filter, Result: CheckPass, Message: kind + ": the event has no data, which passes (as in Argo Events)"}
}

// shortJSON shortens a JSON value for a check to maxReasonValue bytes.
func shortJSON(raw string) string {
	if len(raw) <= maxReasonValue {
		return raw
	}
	cut := maxReasonValue
	for cut > 0 && !isRuneStart(raw[cut]) {
		cut--
	}
	return raw[:cut] + "…"
}

// explainKind records the checks of the filter kinds that do not record
// their own (exprs and script), from the verdict v of kind k on in. Each
// expression is evaluated again on its own, in the order and up to the one
// that decided, as the engine combines them.
func explainKind(ctx context.Context, in *input, k filterKind, v verdict) {
	switch k := k.(type) {
	case *exprFilters:
		switch {
		case len(in.ev.Data) == 0:
			in.record(noDataCheck("filters.exprs", "expr filters"))
			return
		case !in.validJSON():
			in.record(FilterCheck{Filter: "filters.exprs", Result: CheckError, Message: errorMessage(v)})
			return
		}
		for i, f := range k.filters {
			one := (&exprFilters{filters: []*exprFilter{f}}).eval(ctx, in)
			in.record(exprCheck(i, f, in.json(), one))
			if one.err != nil || one.pass == k.or {
				return
			}
		}
	case *scriptFilter:
		c := FilterCheck{Filter: "filters.script", Comparator: "=", Want: "true"}
		switch {
		case len(in.ev.Data) == 0:
			c = noDataCheck("filters.script", "script filter")
		case v.err != nil:
			c.Result, c.Message = CheckError, v.err.Error()
		case !v.pass:
			c.Result, c.Message = CheckFail, v.reason
		default:
			c.Result, c.Message = CheckPass, "script filter: returned true"
		}
		in.record(c)
	}
}

// exprCheck explains the verdict v of the expression at index i on data.
func exprCheck(i int, f *exprFilter, data []byte, v verdict) FilterCheck {
	paths := make([]string, len(f.fields))
	bound := make([]string, len(f.fields))
	for j, fld := range f.fields {
		paths[j] = fld.Path
		val := "(missing)"
		if res := gjson.GetBytes(data, fld.Path); res.Exists() {
			val = shortJSON(res.Raw)
		}
		bound[j] = fld.Name + "=" + val
	}
	c := FilterCheck{Filter: fmt.Sprintf("filters.exprs[%d]", i), Path: strings.Join(paths, ", "),
		Found: strings.Join(bound, ", "), Comparator: "=", Want: "true"}
	switch {
	case v.err != nil:
		c.Result, c.Message = CheckError, v.err.Error()
	case !v.pass:
		c.Result, c.Message = CheckFail, v.reason
	default:
		c.Result, c.Message = CheckPass, fmt.Sprintf("expr filter (%s): true", f.text)
	}
	return c
}

func errorMessage(v verdict) string {
	if v.err != nil {
		return v.err.Error()
	}
	return v.reason
}

// DependencyExplanation says whether an event passed one dependency and why.
type DependencyExplanation struct {
	// Name is the dependency's name.
	Name string `json:"name"`
	// EventSourceName and EventName are the events the dependency is for.
	EventSourceName string `json:"eventSourceName"`
	EventName       string `json:"eventName"`
	// ForEvent is true when the event's source and subject are the
	// dependency's eventSourceName and eventName; its filters ran only then.
	ForEvent bool `json:"forEvent"`
	// Passed is true when the event is for the dependency and passed its
	// transform and filters.
	Passed bool `json:"passed"`
	// Reason says why the event did not pass.
	Reason string `json:"reason,omitempty"`
	// Error is set when the event could not be evaluated (transform or
	// filter error).
	Error string `json:"error,omitempty"`
	// Transformed is the event data after the dependency's transform, when it has one.
	Transformed json.RawMessage `json:"transformed,omitempty"`
	// Filters are the checks of the filters that ran, in the engine's order.
	Filters []FilterCheck `json:"filters,omitempty"`
}

// explainDependency runs ev through one dependency, recording every filter
// check; out is the (transformed) event when it passed.
func explainDependency(ctx context.Context, d *dependency, ev *event.Event) (x DependencyExplanation, out *event.Event) {
	x = DependencyExplanation{Name: d.name, EventSourceName: d.source, EventName: d.subject}
	if !d.matches(ev) {
		x.Reason = fmt.Sprintf("the event is from %s/%s, the dependency wants %s/%s",
			ev.Context.Source, ev.Context.Subject, d.source, d.subject)
		return x, nil
	}
	x.ForEvent = true
	checks := []FilterCheck{}
	out, pass, reason, err := d.explainFilter(ctx, ev, &checks)
	x.Filters, x.Passed = checks, pass
	switch {
	case err != nil:
		x.Error = err.Error()
	case !pass:
		x.Reason = reason
	}
	if d.transform != nil && out != nil && out != ev {
		x.Transformed = jsonOrString(out.Data)
	}
	if d.filters == nil && err == nil {
		x.Filters = nil
	}
	if !pass {
		out = nil
	}
	return x, out
}

// ExplainFilters runs an event through the transform and filters of every
// dependency, recording why it passed each or not; it changes no condition
// state and fires nothing.
func (s *Sensor) ExplainFilters(ctx context.Context, ev *event.Event) []DependencyExplanation {
	ctx = withEvalMemory(withEvalTimeout(ctx, s.evalTimeout), s.evalMemory)
	out := make([]DependencyExplanation, 0, len(s.deps))
	for _, d := range s.deps {
		x, _ := explainDependency(ctx, d, ev)
		out = append(out, x)
	}
	return out
}

// EventExplanation is what one event did to a sensor in a dry run.
type EventExplanation struct {
	// Event are the event's attributes.
	Event EventSummary `json:"event"`
	// Dependencies are the sensor's dependencies, in order, and whether the event passed each.
	Dependencies []DependencyExplanation `json:"dependencies"`
	// Triggers are the sensor's triggers, in order: their condition state
	// after the event and, for those that would fire, what they would fire
	// with. A trigger appears once per firing: a condition without `&&`
	// fires once per dependency the event satisfies.
	Triggers []TriggerExplanation `json:"triggers"`
}

// EventSummary are an event's CloudEvent attributes.
type EventSummary struct {
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Subject         string    `json:"subject"`
	Type            string    `json:"type"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype,omitempty"`
}

// TriggerExplanation is a trigger's condition state after an event and,
// when the event completes its condition, the resolved trigger.
type TriggerExplanation struct {
	// Name is the trigger's template name.
	Name string `json:"name"`
	// Condition is the condition as evaluated (every dependency with `&&`
	// when the template has none).
	Condition string `json:"condition"`
	// Satisfied are the dependencies whose event the condition holds (or
	// fires with), with that event's id.
	Satisfied []SatisfiedDependency `json:"satisfied"`
	// Waiting are the dependencies of the condition that have no event yet.
	Waiting []string `json:"waiting"`
	// Fires is true when the trigger would fire now.
	Fires bool `json:"fires"`
	// AlreadyFired is true when the condition was satisfied by events the
	// trigger already fired for (a redelivery), so it does not fire again.
	AlreadyFired bool `json:"alreadyFired,omitempty"`
	// Template is the trigger template after the trigger-level and the
	// type's parameters and dynamic headers; set when the trigger fires.
	Template json.RawMessage `json:"template,omitempty"`
	// Payload is the payload the type's `payload` builds, as JSON (a JSON
	// string when it is not JSON); absent when there is none.
	Payload json.RawMessage `json:"payload,omitempty"`
	// Error is set when the trigger's condition holds but resolving it
	// failed: firing would fail (and be retried) with this error.
	Error string `json:"error,omitempty"`
	// Note says what the dry run could not show, e.g. parameters that
	// apply to an object read only when firing.
	Note string `json:"note,omitempty"`
}

// SatisfiedDependency is a dependency that a trigger's condition holds an event for.
type SatisfiedDependency struct {
	Dependency string `json:"dependency"`
	EventID    string `json:"eventId"`
}

// Explainer is a dry run of a Sensor: it takes events through the engine's
// dependency matching, transforms, filters and trigger conditions, keeping
// condition state between events, and resolves the triggers whose condition
// holds (parameters, dynamic headers, payload) without firing them. Trigger
// types are not built, so it needs no secrets, cluster or network. It is
// safe for concurrent use; events are explained one at a time.
type Explainer struct {
	mu       sync.Mutex // serialises Explain
	name     string
	deps     []*dependency
	triggers []*dryTrigger
	store    *peekStore
}

// dryTrigger is a trigger of a dry run and its condition state.
type dryTrigger struct {
	*trigger
	pending map[string]*event.Event // the condition state as last written
}

// NewExplainer compiles a Sensor for a dry run, as New does with
// Options.SkipBuild: it reports the problems New reports, with the same
// field paths, except those only a trigger type's own factory finds
// (secrets, cluster, client settings), since no trigger type is built.
func NewExplainer(s *v1alpha1.Sensor) (*Explainer, error) {
	store := newPeekStore(NewMemoryStore(DefaultFiredKeys))
	eng, err := New(s, Options{Store: store, SkipBuild: true})
	if err != nil {
		return nil, err
	}
	x := &Explainer{name: eng.name, deps: eng.deps, store: store}
	for _, t := range eng.triggers {
		t.inst = dryInstance{key: t.key, resourceAt: t.resourceAt}
		x.triggers = append(x.triggers, &dryTrigger{trigger: t})
	}
	return x, nil
}

// Explain takes one event through the sensor: the dependencies it is for,
// their transforms and filters, and every trigger's condition, whose state
// it keeps for the next event. A trigger whose condition holds is resolved
// and reported as firing, and its events are marked fired as the engine
// marks them; nothing is fired. The error is the state store's or ctx's.
func (x *Explainer) Explain(ctx context.Context, ev *event.Event) (EventExplanation, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if ev == nil {
		return EventExplanation{}, fmt.Errorf("explaining: nil event")
	}
	if err := ctx.Err(); err != nil {
		return EventExplanation{}, err
	}
	out := EventExplanation{
		Event: EventSummary{ID: ev.Context.ID, Source: ev.Context.Source, Subject: ev.Context.Subject,
			Type: ev.Context.Type, Time: ev.Context.Time, DataContentType: ev.Context.DataContentType},
		Dependencies: make([]DependencyExplanation, 0, len(x.deps)),
		Triggers:     make([]TriggerExplanation, 0, len(x.triggers)),
	}
	passed := map[string]*event.Event{}
	for _, d := range x.deps {
		dx, filtered := explainDependency(ctx, d, ev)
		out.Dependencies = append(out.Dependencies, dx)
		if filtered != nil {
			passed[d.name] = filtered
		}
	}
	for _, t := range x.triggers {
		txs, err := x.offer(ctx, t, passed)
		if err != nil {
			return out, err
		}
		out.Triggers = append(out.Triggers, txs...)
	}
	return out, nil
}

// offer offers the passed events to one trigger as the engine does and
// explains the outcome: one explanation per firing (a condition without
// `&&` fires once per dependency the event satisfies), or the condition
// state when it does not fire.
func (x *Explainer) offer(ctx context.Context, t *dryTrigger, passed map[string]*event.Event) ([]TriggerExplanation, error) {
	x.store.start()
	sets, err := t.offer(ctx, x.store, passed)
	if err != nil {
		return nil, err
	}
	if next, wrote := x.store.written(); wrote {
		t.pending = next
	}
	if len(sets) == 0 {
		tx := TriggerExplanation{Name: t.name, Condition: t.condition}
		tx.Satisfied, tx.Waiting = conditionState(t.deps, t.pending)
		return []TriggerExplanation{tx}, nil
	}
	out := make([]TriggerExplanation, 0, len(sets))
	for _, events := range sets {
		tx, err := x.fire(ctx, t, events)
		if err != nil {
			return nil, err
		}
		out = append(out, tx)
	}
	return out, nil
}

// fire explains one firing of a trigger with events as the engine's fire
// does it, without firing: already fired for these events, resolved, or
// failing to resolve (the engine then keeps the events for the redelivery).
func (x *Explainer) fire(ctx context.Context, t *dryTrigger, events map[string]*event.Event) (TriggerExplanation, error) {
	tx := TriggerExplanation{Name: t.name, Condition: t.condition}
	tx.Satisfied, tx.Waiting = conditionState(t.deps, events)
	key := idempotencyKey(x.name, t.name, events)
	done, err := x.store.Fired(ctx, key)
	switch {
	case err != nil:
		return tx, fmt.Errorf("trigger %s: reading idempotency key: %w", t.name, err)
	case done:
		tx.AlreadyFired = true
		return tx, nil
	}
	if tx.Template, tx.Payload, tx.Note, err = t.dryFire(ctx, x.name, key, events); err != nil {
		tx.Error = fmt.Sprintf("trigger %s: %v", t.name, err)
		x.store.start()
		if rerr := t.restore(ctx, x.store, events); rerr != nil {
			return tx, fmt.Errorf("trigger %s: restoring the condition state: %w", t.name, rerr)
		}
		if next, wrote := x.store.written(); wrote {
			t.pending = next
		}
		return tx, nil
	}
	tx.Fires = true
	if err := x.store.MarkFired(ctx, key, 0); err != nil {
		return tx, fmt.Errorf("trigger %s: recording idempotency key: %w", t.name, err)
	}
	return tx, nil
}

// conditionState splits a condition's dependencies into those held (with
// their event ids) and those still waiting; both are sorted.
func conditionState(deps []string, held map[string]*event.Event) ([]SatisfiedDependency, []string) {
	satisfied := []SatisfiedDependency{}
	waiting := []string{}
	for _, d := range deps {
		if ev, ok := held[d]; ok {
			satisfied = append(satisfied, SatisfiedDependency{Dependency: d, EventID: ev.Context.ID})
		} else {
			waiting = append(waiting, d)
		}
	}
	return satisfied, waiting
}

// dryFire prepares the trigger for events as a firing does (prepare), and
// fires its dry instance, which applies the type's resource parameters as
// the type would; it returns the whole template JSON (with the type's spec
// after parameters and dynamic headers) and the payload. For a type whose
// `parameters` apply to an object not written inline, note says they apply
// when firing.
func (t *trigger) dryFire(ctx context.Context, sensor, key string, events map[string]*event.Event) (tmpl, payload json.RawMessage, note string, err error) {
	spec, in, r, err := t.prepare(ctx, sensor, key, events)
	if err != nil {
		return nil, nil, "", err
	}
	res, err := t.inst.Fire(ctx, spec, in)
	if err != nil {
		return nil, nil, "", err
	}
	if in.ApplyParameters != nil && !gjson.GetBytes(r.raw, t.resourceAt).IsObject() {
		note = t.key + ".parameters apply to the object read when the trigger fires"
	}
	if in.Payload != nil {
		payload = jsonOrString(in.Payload)
	}
	if tmpl, err = sjson.SetRawBytes(r.doc, escapePath(t.key), res.Body); err != nil {
		return nil, nil, "", fmt.Errorf("%s: %w", t.key, err)
	}
	return tmpl, payload, note, nil
}

// dryInstance stands in for a trigger type's instance in a dry run: its
// spec is the spec JSON after parameters, and firing it applies the type's
// resource parameters to the object written inline at resourceAt (as the
// type applies them to the object it reads) and answers the spec as Body.
type dryInstance struct {
	key        string
	resourceAt string
}

// Decode keeps the spec JSON.
func (d dryInstance) Decode(raw []byte) (any, error) { return json.RawMessage(raw), nil }

// Fire answers the spec, with the resource parameters applied to its
// inline object, as the Result's Body.
func (d dryInstance) Fire(_ context.Context, spec any, in triggers.Firing) (triggers.Result, error) {
	raw, ok := spec.(json.RawMessage)
	if !ok {
		return triggers.Result{}, fmt.Errorf("dry-run spec is %T, want JSON", spec)
	}
	if in.ApplyParameters == nil || d.resourceAt == "" {
		return triggers.Result{Body: raw}, nil
	}
	obj := gjson.GetBytes(raw, d.resourceAt)
	if !obj.IsObject() {
		return triggers.Result{Body: raw}, nil
	}
	applied, err := in.ApplyParameters([]byte(obj.Raw))
	if err != nil {
		return triggers.Result{}, err
	}
	out, err := sjson.SetRawBytes(raw, d.resourceAt, applied)
	if err != nil {
		return triggers.Result{}, fmt.Errorf("%s.parameters: %w", d.key, err)
	}
	return triggers.Result{Body: out}, nil
}

// Close releases nothing.
func (dryInstance) Close() error { return nil }

// jsonOrString is b itself when it is JSON, else b as a JSON string.
func jsonOrString(b []byte) json.RawMessage {
	if json.Valid(b) {
		return append(json.RawMessage(nil), b...)
	}
	s, _ := json.Marshal(string(b))
	return s
}

// peekStore is a StateStore that remembers what the last UpdatePending
// wrote, so that a dry run can show a trigger's condition state whatever
// key the engine keeps it under.
type peekStore struct {
	StateStore
	mu    sync.Mutex // guards the fields below
	wrote bool
	last  map[string]*event.Event
}

func newPeekStore(s StateStore) *peekStore { return &peekStore{StateStore: s} }

// start forgets the last write.
func (p *peekStore) start() {
	p.mu.Lock()
	p.wrote, p.last = false, nil
	p.mu.Unlock()
}

// written returns a copy of what the last UpdatePending since start wrote.
func (p *peekStore) written() (map[string]*event.Event, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last, p.wrote
}

// UpdatePending implements StateStore.
func (p *peekStore) UpdatePending(ctx context.Context, trigger string, fn func(Pending) Pending) error {
	var next Pending
	err := p.StateStore.UpdatePending(ctx, trigger, func(cur Pending) Pending {
		next = fn(cur)
		return next
	})
	if err != nil {
		return err
	}
	held := make(map[string]*event.Event, len(next.Events))
	for d, ev := range next.Events {
		held[d] = ev
	}
	p.mu.Lock()
	p.wrote, p.last = true, held
	p.mu.Unlock()
	return nil
}

// WouldFire lists the names of the triggers that would fire for any of the
// explained events, each once, in the order they first would.
func WouldFire(events []EventExplanation) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, e := range events {
		for _, t := range e.Triggers {
			if t.Fires && !seen[t.Name] {
				seen[t.Name] = true
				out = append(out, t.Name)
			}
		}
	}
	return out
}
