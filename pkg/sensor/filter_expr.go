package sensor

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
	"github.com/tidwall/gjson"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/evallimit"
)

// exprFilters are the expression filters of a dependency and how they combine.
type exprFilters struct {
	or      bool
	filters []*exprFilter
}

// exprFilter is a boolean expression over values bound from the event data.
// Argo Events writes them in govaluate syntax; they are translated to
// expr-lang (see translateGovaluate) and compiled once.
type exprFilter struct {
	text    string
	fields  []v1alpha1.PayloadField
	program *vm.Program
	// loops is true when the program iterates (all, any, map, filter…), so
	// that its run time depends on the data; such programs run bounded.
	loops bool
	slots evalSlots
}

// newExprFilters compiles the expression filters; problem paths are relative
// to `filters` (`exprs[0].expr`, `exprLogicalOperator`).
func newExprFilters(fs []v1alpha1.ExprFilter, op v1alpha1.LogicalOperator) (*exprFilters, *apis.FieldError) {
	or, errs := logicalOperator(op, "exprLogicalOperator")
	e := &exprFilters{or: or}
	for i := range fs {
		f, err := newExprFilter(&fs[i])
		if err != nil {
			errs = errs.Also(err.ViaFieldIndex("exprs", i))
			continue
		}
		e.filters = append(e.filters, f)
	}
	return e, errs
}

func newExprFilter(f *v1alpha1.ExprFilter) (*exprFilter, *apis.FieldError) {
	var errs *apis.FieldError
	if len(f.Fields) == 0 {
		errs = errs.Also(apis.ErrMissingField("fields"))
	}
	// Declaring the field names (of any type) lets them shadow expr-lang
	// builtins of the same name (type, count, len, …). A name no field
	// binds fails the filter when it is evaluated, as in govaluate; one
	// that is never reached (`true || z`) does not.
	env := types.Map{types.Extra: types.Any, evallimit.ExprCheck: types.Any}
	bound := map[string]bool{evallimit.ExprCheck: true}
	for i, fld := range f.Fields {
		errs = errs.Also(requireString(fld.Path, "path").Also(requireString(fld.Name, "name")).ViaFieldIndex("fields", i))
		env[fld.Name] = types.Any
		bound[fld.Name] = true
	}
	if strings.TrimSpace(f.Expr) == "" {
		return nil, errs.Also(apis.ErrMissingField("expr"))
	}
	program, err := expr.Compile(translateGovaluate(f.Expr), append([]expr.Option{expr.Env(env),
		expr.Function(unboundFunc, unboundParameter), expr.Patch(unboundPatcher{bound: bound}),
		expr.Optimize(false)}, // folding `z || true` would hide an unbound z
		evallimit.ExprOptions()...)...)
	if err != nil {
		errs = errs.Also(apis.ErrInvalidValue(f.Expr, "expr", oneLineError{err}.Error()))
	}
	return &exprFilter{text: f.Expr, fields: f.Fields, program: program, loops: hasLoop(program), slots: newEvalSlots()}, errs
}

// hasLoop reports whether a compiled expression iterates: only a backward
// jump repeats instructions, so a program without one runs in time bounded
// by its length (builtins are linear or bounded by expr-lang's memory budget).
func hasLoop(p *vm.Program) bool {
	if p == nil {
		return false
	}
	for _, op := range p.Bytecode {
		if op == vm.OpJumpBackward {
			return true
		}
	}
	return false
}

// eval runs the expression filters on the event data; no data passes, as in
// Argo Events, and data that is not JSON or is nested too deep fails (see
// checkData). With "and" the first error or false decides; with "or" the
// first true passes and otherwise the errors, if any, are the result.
func (e *exprFilters) eval(ctx context.Context, in *input) verdict {
	if len(in.ev.Data) == 0 {
		return verdict{pass: true}
	}
	if err := checkData(in); err != nil {
		return verdict{err: fmt.Errorf("expr filters: %w", err)}
	}
	var errs []error
	var reasons []string
	for _, f := range e.filters {
		v := f.eval(ctx, in.json())
		switch {
		case v.err != nil && !e.or:
			return v
		case v.err != nil:
			errs = append(errs, v.err)
		case v.pass && e.or:
			return v
		case !v.pass && !e.or:
			return v
		case !v.pass:
			reasons = append(reasons, v.reason)
		}
	}
	if !e.or {
		return verdict{pass: true}
	}
	if len(errs) > 0 {
		return verdict{err: joinErrors(errs)}
	}
	return verdict{reason: strings.Join(reasons, " / ")}
}

// eval binds the fields and runs the expression, within the evaluation
// budget when it iterates; only a boolean true passes.
func (f *exprFilter) eval(ctx context.Context, data []byte) verdict {
	env := make(map[string]any, len(f.fields)+1)
	for _, fld := range f.fields {
		res := gjson.GetBytes(data, fld.Path)
		if !res.Exists() {
			return verdict{err: fmt.Errorf("expr filter (%s): %s: %w", f.text, fld.Path, ErrPathNotFound)}
		}
		env[fld.Name] = exprValue(res)
	}
	var out any
	var err error
	if f.loops {
		e := startEval(ctx)
		defer e.done()
		env[evallimit.ExprCheck] = e.err
		out, err = runBounded(e, f.slots, func() (any, error) { return expr.Run(f.program, env) })
		if stopped := e.err(); err != nil && stopped != nil {
			err = stopped // without expr-lang's position of the step that saw it
		}
	} else if err = ctx.Err(); err == nil {
		out, err = expr.Run(f.program, env)
	}
	if err != nil {
		return verdict{err: fmt.Errorf("expr filter (%s): %w", f.text, oneLineError{err})}
	}
	if b, ok := out.(bool); ok {
		if b {
			return verdict{pass: true}
		}
		return verdict{reason: fmt.Sprintf("expr filter (%s): false", f.text)}
	}
	return verdict{reason: fmt.Sprintf("expr filter (%s): result %v is not a boolean", f.text, out)}
}

// unboundFunc is the function an unbound name is rewritten to call; its name
// cannot be written in an expression, so it never meets a field.
const unboundFunc = "$unbound"

// unboundParameter fails with govaluate's words for an unbound name:
// "No parameter 'z' found.".
func unboundParameter(params ...any) (any, error) {
	return nil, fmt.Errorf("No parameter '%v' found.", params[0]) //nolint:staticcheck // govaluate's message, as Argo users see it
}

// unboundPatcher rewrites every identifier that no field binds into a call
// of unboundFunc, so that evaluating it is an error and short-circuited
// operands are never evaluated.
type unboundPatcher struct {
	bound map[string]bool
}

// Visit implements ast.Visitor.
func (p unboundPatcher) Visit(node *ast.Node) {
	id, ok := (*node).(*ast.IdentifierNode)
	if !ok || p.bound[id.Value] || id.Value == unboundFunc {
		return
	}
	ast.Patch(node, &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: unboundFunc},
		Arguments: []ast.Node{&ast.StringNode{Value: id.Value}},
	})
}

// maxExactInt is the largest integer a float64 holds exactly.
const maxExactInt = 1 << 53

// exprValue is the value a field binds: gjson's Go value, with whole numbers
// as int so that integer operators such as % work as in govaluate, where
// every number is a float.
func exprValue(res gjson.Result) any {
	if res.Type == gjson.Number && res.Num == math.Trunc(res.Num) && math.Abs(res.Num) < maxExactInt {
		return int(res.Num)
	}
	return res.Value()
}

// translateGovaluate rewrites the govaluate operators that expr-lang spells
// differently, outside string literals: `a =~ b` becomes `a matches b`,
// `a !~ b` becomes `a not matches b` (that is, not (a matches b)), the
// keyword `in` is matched case-insensitively as in govaluate (`IN`), and the
// list of `x in (1, 2)` becomes `x in [1, 2]`. Everything else (==, !=, <,
// &&, ||, !, arithmetic, ?:, ??) has the same meaning in both.
func translateGovaluate(src string) string {
	var b strings.Builder
	b.Grow(len(src) + 16)
	var parens []bool // for each open "(", whether it opens an `in` list
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(src) && src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			end := min(j+1, len(src))
			b.WriteString(src[i:end])
			i = end - 1
		case c == '=' && i+1 < len(src) && src[i+1] == '~':
			b.WriteString(" matches ")
			i++
		case c == '!' && i+1 < len(src) && src[i+1] == '~':
			b.WriteString(" not matches ")
			i++
		case isIdentByte(c) && (i == 0 || !isIdentByte(src[i-1])):
			// govaluate's keywords are case-insensitive: IN is in.
			j := i
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			if word := src[i:j]; strings.EqualFold(word, "in") {
				b.WriteString("in")
			} else {
				b.WriteString(word)
			}
			i = j - 1
		case c == '(':
			parens = append(parens, endsWithIn(b.String()))
			if parens[len(parens)-1] {
				b.WriteByte('[')
			} else {
				b.WriteByte(c)
			}
		case c == ')' && len(parens) > 0:
			list := parens[len(parens)-1]
			parens = parens[:len(parens)-1]
			if list {
				b.WriteByte(']')
			} else {
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isIdentByte reports whether c may be part of an identifier or number.
func isIdentByte(c byte) bool {
	return c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// endsWithIn reports whether s, trimmed, ends with the word "in".
func endsWithIn(s string) bool {
	s = strings.TrimRight(s, " \t\n\r")
	if !strings.HasSuffix(s, "in") {
		return false
	}
	s = s[:len(s)-2]
	if s == "" {
		return false
	}
	return !isIdentByte(s[len(s)-1])
}
