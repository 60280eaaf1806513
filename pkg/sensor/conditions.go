package sensor

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// conditions is a parsed trigger `conditions` expression: dependency names
// combined with `&&`, `||` and parentheses (`&&` binds tighter).
type conditions struct {
	root condNode
}

type condNode struct {
	op       string // "", "&&" or "||"; "" is a leaf
	name     string
	children []condNode
}

// parseConditions parses a conditions expression such as "(dep-a || dep-b) && dep-c".
// Names may hold letters, digits and any of - _ . : / ; the error names the
// offending position.
func parseConditions(expr string) (*conditions, error) {
	p := condParser{src: expr}
	p.next()
	if p.tok == "" {
		return nil, fmt.Errorf("empty expression")
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok != "" {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.tok, p.tokPos)
	}
	return &conditions{root: n}, nil
}

// dependencies returns the dependency names the expression uses, sorted and unique.
func (c *conditions) dependencies() []string {
	seen := map[string]bool{}
	var walk func(n condNode)
	walk = func(n condNode) {
		if n.op == "" {
			seen[n.name] = true
		}
		for _, ch := range n.children {
			walk(ch)
		}
	}
	walk(c.root)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// eval evaluates the expression, with satisfied telling whether a dependency holds.
func (c *conditions) eval(satisfied func(dependency string) bool) bool {
	return c.root.eval(satisfied)
}

func (n condNode) eval(satisfied func(string) bool) bool {
	switch n.op {
	case "&&":
		for _, ch := range n.children {
			if !ch.eval(satisfied) {
				return false
			}
		}
		return true
	case "||":
		for _, ch := range n.children {
			if ch.eval(satisfied) {
				return true
			}
		}
		return false
	default:
		return satisfied(n.name)
	}
}

type condParser struct {
	src    string
	pos    int
	tok    string
	tokPos int
}

func isNameByte(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("-_.:/", b) >= 0
}

// next reads the next token: a name, "(", ")", "&&", "||", or "" at the end.
func (p *condParser) next() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
	p.tokPos = p.pos
	if p.pos >= len(p.src) {
		p.tok = ""
		return
	}
	c := p.src[p.pos]
	switch {
	case c == '(' || c == ')':
		p.tok = string(c)
		p.pos++
	case strings.HasPrefix(p.src[p.pos:], "&&") || strings.HasPrefix(p.src[p.pos:], "||"):
		p.tok = p.src[p.pos : p.pos+2]
		p.pos += 2
	case isNameByte(c):
		start := p.pos
		for p.pos < len(p.src) && isNameByte(p.src[p.pos]) {
			p.pos++
		}
		p.tok = p.src[start:p.pos]
	default:
		p.tok = string(c)
		p.pos++
	}
}

func (p *condParser) or() (condNode, error) {
	return p.binary("||", p.and)
}

func (p *condParser) and() (condNode, error) {
	return p.binary("&&", p.primary)
}

func (p *condParser) binary(op string, operand func() (condNode, error)) (condNode, error) {
	first, err := operand()
	if err != nil {
		return condNode{}, err
	}
	children := []condNode{first}
	for p.tok == op {
		p.next()
		n, err := operand()
		if err != nil {
			return condNode{}, err
		}
		children = append(children, n)
	}
	if len(children) == 1 {
		return first, nil
	}
	return condNode{op: op, children: children}, nil
}

func (p *condParser) primary() (condNode, error) {
	switch {
	case p.tok == "":
		return condNode{}, fmt.Errorf("unexpected end of expression")
	case p.tok == "(":
		p.next()
		n, err := p.or()
		if err != nil {
			return condNode{}, err
		}
		if p.tok != ")" {
			return condNode{}, fmt.Errorf("missing ) at offset %d", p.tokPos)
		}
		p.next()
		return n, nil
	case isNameByte(p.tok[0]):
		n := condNode{name: p.tok}
		p.next()
		return n, nil
	default:
		return condNode{}, fmt.Errorf("unexpected %q at offset %d", p.tok, p.tokPos)
	}
}

// conditionsReset is a compiled `conditionsReset` entry: the schedule at
// whose ticks a trigger's partially satisfied condition is discarded, as in
// Argo Events. The reset is applied when the trigger's state is next
// updated: an event taken into the state before the latest tick of any of
// the trigger's schedules no longer counts (see Pending.Reset), so it works
// alike for one engine instance and for several sharing a store, and across
// restarts, with no timer running.
type conditionsReset struct {
	schedule cron.Schedule
	loc      *time.Location
	now      func() time.Time
}

// newConditionsReset compiles one entry, reading the time from now (the
// engine's clock); problem paths are relative to it.
func newConditionsReset(r v1alpha1.ConditionsResetCriteria, now func() time.Time) (conditionsReset, *apis.FieldError) {
	out := conditionsReset{loc: time.UTC, now: now}
	if r.ByTime == nil {
		return out, apis.ErrMissingField("byTime")
	}
	var errs *apis.FieldError
	if r.ByTime.Cron == "" {
		errs = apis.ErrMissingField("cron")
	} else if s, err := cron.ParseStandard(r.ByTime.Cron); err != nil {
		errs = apis.ErrInvalidValue(r.ByTime.Cron, "cron", err.Error())
	} else {
		out.schedule = s
	}
	if tz := r.ByTime.Timezone; tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(tz, "timezone", "unknown time zone"))
		} else {
			out.loc = loc
		}
	}
	return out, errs.ViaField("byTime")
}

// previous returns the latest tick of the schedule at or before now, in the
// entry's time zone; zero when there is none within 29 years.
func (r conditionsReset) previous(now time.Time) time.Time {
	if r.schedule == nil {
		return time.Time{}
	}
	now = now.In(r.loc)
	// Look back step by step, so that frequent schedules stay cheap.
	for _, w := range []time.Duration{time.Minute, time.Hour, 24 * time.Hour, 32 * 24 * time.Hour,
		367 * 24 * time.Hour, 5 * 366 * 24 * time.Hour, 29 * 366 * 24 * time.Hour} {
		t := r.schedule.Next(now.Add(-w))
		if t.IsZero() || t.After(now) {
			continue
		}
		for {
			next := r.schedule.Next(t)
			if next.IsZero() || next.After(now) {
				return t
			}
			t = next
		}
	}
	return time.Time{}
}

// lastReset returns the latest tick, at or before the current time, of any
// of the schedules; zero when there is none.
func lastReset(resets []conditionsReset) time.Time {
	var last time.Time
	for _, r := range resets {
		if t := r.previous(r.now()); t.After(last) {
			last = t
		}
	}
	return last
}
