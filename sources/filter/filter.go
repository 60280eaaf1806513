// Package filter compiles the EventSource `filter.expression` that many source
// types offer: an expr-lang boolean over the event data, with sprig helpers as
// Argo Events offers them.
package filter

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/Masterminds/sprig/v3"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/vm"

	"github.com/flintevents/flint/pkg/evallimit"
)

// Filter is a compiled EventSource `filter.expression`: an expr-lang boolean
// expression evaluated over the event data before the event reaches the broker.
// A Filter is safe for concurrent use.
type Filter struct {
	expression string
	program    *vm.Program
	sprig      map[string]any
	slots      slots
}

// Compile compiles an EventSource filter expression once. In the expression
// the data's top-level keys are variables (a `-` in a key is also reachable as
// `_`, and dotted top-level keys such as "a.b" as nested `a.b`), plus the helpers
// asInt, asFloat, jsonpath(doc, path), toJson(v) and sprig.<function>.
func Compile(expression string) (*Filter, error) {
	if strings.TrimSpace(expression) == "" {
		return nil, fmt.Errorf("compiling filter expression: expression is empty")
	}
	program, err := expr.Compile(expression, append([]expr.Option{
		expr.Function("asInt", asInt),
		expr.Function("asFloat", asFloat),
		expr.Function("jsonpath", jsonPathFunc),
		expr.Function("toJson", toJSON),
	}, evallimit.ExprOptions()...)...)
	if err != nil {
		return nil, fmt.Errorf("compiling filter expression %q: %w", expression, err)
	}
	fns := sprig.GenericFuncMap()
	delete(fns, "env")
	delete(fns, "expandenv")
	// The functions that build strings or lists refuse results beyond
	// evallimit.MaxResult; each call has a budget of its own.
	bounded := evallimit.WrapFuncs(evallimit.Guard{Budget: func() *evallimit.Budget { return &evallimit.Budget{} }}, fns)
	for name, fn := range bounded {
		fns[name] = fn
	}
	return &Filter{expression: expression, program: program, sprig: fns, slots: newSlots()}, nil
}

// String returns the source text of the expression.
func (f *Filter) String() string { return f.expression }

// Match evaluates the expression over data, which must be a JSON object. It
// returns an error when the data cannot be decoded, evaluation fails or the
// result is not a bool; callers drop the event in every case but a true result.
func (f *Filter) Match(data []byte) (bool, error) {
	return f.match(data, nil)
}

// match is Match; the loops of the expression call check, when set, at each
// step and stop with its error.
func (f *Filter) match(data []byte, check func() error) (bool, error) {
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		return false, fmt.Errorf("decoding event data for filter: %w", err)
	}
	env := filterEnv(fields)
	env["sprig"] = f.sprig
	if check != nil {
		env[evallimit.ExprCheck] = check
	}
	out, err := expr.Run(f.program, env)
	if err != nil {
		return false, fmt.Errorf("evaluating filter expression %q: %w", f.expression, err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("filter expression %q returned %T, not bool", f.expression, out)
	}
	return b, nil
}

// filterEnv builds the variables an expression sees: the data's top-level keys,
// `_` aliases for keys holding `-` (a real key of that name wins), and top-level
// keys with dots expanded into nested maps (a dotted key wins over a plain key
// it overlaps, the more specific dotted key over the less specific).
func filterEnv(fields map[string]any) map[string]any {
	env := make(map[string]any, len(fields)+2)
	var root *expansion
	put := func(k string, v any) {
		if !strings.Contains(k, ".") {
			env[k] = v
			return
		}
		if root == nil {
			root = &expansion{}
		}
		root.insert(strings.Split(k, "."), v)
	}
	for k, v := range fields {
		put(k, v)
	}
	for k, v := range fields {
		alias := strings.ReplaceAll(k, "-", "_")
		if alias == k {
			continue
		}
		if _, real := fields[alias]; !real {
			put(alias, v)
		}
	}
	if root != nil {
		for k, c := range root.children {
			env[k] = c.build()
		}
	}
	return env
}

// expansion is a tree of dotted keys being turned into nested maps.
type expansion struct {
	value    any
	children map[string]*expansion
}

func (e *expansion) insert(parts []string, v any) {
	if len(parts) == 0 {
		e.value = v
		return
	}
	if e.children == nil {
		e.children = map[string]*expansion{}
	}
	c, ok := e.children[parts[0]]
	if !ok {
		c = &expansion{}
		e.children[parts[0]] = c
	}
	c.insert(parts[1:], v)
}

func (e *expansion) build() any {
	if e.children == nil {
		return e.value
	}
	m := make(map[string]any, len(e.children))
	for k, c := range e.children {
		m[k] = c.build()
	}
	return m
}

func asInt(params ...any) (out any, err error) {
	if len(params) != 1 {
		return nil, fmt.Errorf("asInt: want 1 argument, got %d", len(params))
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("asInt: %v", r)
		}
	}()
	return builtin.Int(params[0]), nil
}

func asFloat(params ...any) (out any, err error) {
	if len(params) != 1 {
		return nil, fmt.Errorf("asFloat: want 1 argument, got %d", len(params))
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("asFloat: %v", r)
		}
	}()
	return builtin.Float(params[0]), nil
}

func toJSON(params ...any) (any, error) {
	if len(params) != 1 {
		return nil, fmt.Errorf("toJson: want 1 argument, got %d", len(params))
	}
	b, err := json.Marshal(params[0])
	if err != nil {
		return "", nil // as Argo: a value that cannot be encoded yields ""
	}
	return string(b), nil
}

func jsonPathFunc(params ...any) (any, error) {
	if len(params) != 2 {
		return nil, fmt.Errorf("jsonpath: want 2 arguments (document, path), got %d", len(params))
	}
	path, ok := params[1].(string)
	if !ok {
		return nil, fmt.Errorf("jsonpath: path must be a string, got %T", params[1])
	}
	doc := params[0]
	if s, ok := doc.(string); ok {
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			return nil, fmt.Errorf("jsonpath: decoding document: %w", err)
		}
	}
	return jsonPath(doc, path)
}

// pathStep is one JSONPath selector: a member name, an array index or `*`.
type pathStep struct {
	name  string
	index int
	kind  byte // 'n' name, 'i' index, '*' wildcard
}

// jsonPath evaluates the JSONPath subset `$`, `.name`, `['name']`, `[n]`
// (negative counts from the end), `.*` and `[*]`. A path without wildcards
// yields its one value (an error when absent); one with wildcards a list.
func jsonPath(doc any, path string) (any, error) {
	steps, err := parseJSONPath(path)
	if err != nil {
		return nil, err
	}
	cur := []any{doc}
	wild := false
	for _, st := range steps {
		var next []any
		for _, v := range cur {
			switch st.kind {
			case 'n':
				if m, ok := v.(map[string]any); ok {
					if x, ok := m[st.name]; ok {
						next = append(next, x)
					}
				}
			case 'i':
				if a, ok := v.([]any); ok {
					i := st.index
					if i < 0 {
						i += len(a)
					}
					if i >= 0 && i < len(a) {
						next = append(next, a[i])
					}
				}
			case '*':
				wild = true
				switch c := v.(type) {
				case map[string]any:
					keys := make([]string, 0, len(c))
					for k := range c {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					for _, k := range keys {
						next = append(next, c[k])
					}
				case []any:
					next = append(next, c...)
				}
			}
		}
		cur = next
	}
	if wild {
		if cur == nil {
			cur = []any{}
		}
		return cur, nil
	}
	if len(cur) == 0 {
		return nil, fmt.Errorf("jsonpath: %q matches nothing", path)
	}
	return cur[0], nil
}

func parseJSONPath(path string) ([]pathStep, error) {
	bad := func(why string) error { return fmt.Errorf("jsonpath: %q: %s", path, why) }
	if !strings.HasPrefix(path, "$") {
		return nil, bad("must start with $")
	}
	var steps []pathStep
	rest := path[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			if strings.HasPrefix(rest, ".") {
				return nil, bad("recursive descent (..) is not supported")
			}
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			name := rest[:end]
			rest = rest[end:]
			switch name {
			case "":
				return nil, bad("empty member name")
			case "*":
				steps = append(steps, pathStep{kind: '*'})
			default:
				steps = append(steps, pathStep{kind: 'n', name: name})
			}
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, bad("unclosed [")
			}
			sel := strings.TrimSpace(rest[1:end])
			rest = rest[end+1:]
			switch {
			case sel == "*":
				steps = append(steps, pathStep{kind: '*'})
			case len(sel) >= 2 && (sel[0] == '\'' || sel[0] == '"') && sel[len(sel)-1] == sel[0]:
				steps = append(steps, pathStep{kind: 'n', name: sel[1 : len(sel)-1]})
			default:
				i, err := strconv.Atoi(sel)
				if err != nil {
					return nil, bad(fmt.Sprintf("unsupported selector [%s]", sel))
				}
				steps = append(steps, pathStep{kind: 'i', index: i})
			}
		default:
			return nil, bad(fmt.Sprintf("unexpected %q", rest[0]))
		}
	}
	return steps, nil
}
