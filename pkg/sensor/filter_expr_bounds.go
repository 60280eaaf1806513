package sensor

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"

	"github.com/flintevents/flint/pkg/evallimit"
)

// Names an expression filter is compiled with that no expression can write:
// exprTick is called with exprEval at each step of a predicate (the body of
// all, any, map, filter…), so that a looping expression stops within one
// step of its evaluation's limit instead of running on after it was
// abandoned.
const (
	exprTick   = "$tick"
	exprEval   = "$eval"
	exprRepeat = "$repeat"
)

// exprBounds are the options that bound an expression filter: the tick of
// its loops and a repeat that refuses results beyond evallimit.MaxResult (expr's
// own allows a million repetitions of a string of any length).
func exprBounds() []expr.Option {
	return []expr.Option{
		expr.Function(exprTick, exprTickFunc),
		expr.Function(exprRepeat, boundedExprRepeat, new(func(string, int) (string, error))),
		expr.Patch(boundsPatcher{}),
	}
}

// exprTickFunc returns its second argument, or why the evaluation that is
// its first argument stopped.
func exprTickFunc(params ...any) (any, error) {
	if e, ok := params[0].(*evaluation); ok && e != nil {
		if err := e.err(); err != nil {
			return nil, err
		}
	}
	return params[1], nil
}

// boundedExprRepeat is repeat(s, n).
func boundedExprRepeat(params ...any) (any, error) {
	s, _ := params[0].(string)
	var n int
	switch v := params[1].(type) {
	case int:
		n = v
	case float64:
		n = int(v)
	}
	if n < 0 {
		return nil, fmt.Errorf("invalid argument for repeat (expected positive integer, got %d)", n)
	}
	if err := (&evallimit.Budget{}).Charge("repeat", evallimit.Mul(int64(len(s)), int64(n))); err != nil {
		return nil, err
	}
	return strings.Repeat(s, n), nil
}

// boundsPatcher wraps the body of every predicate in a call of exprTick and
// makes every call of the builtin repeat one of exprRepeat.
type boundsPatcher struct{}

// Visit implements ast.Visitor.
func (boundsPatcher) Visit(node *ast.Node) {
	if b, ok := (*node).(*ast.BuiltinNode); ok && b.Name == "repeat" {
		ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: exprRepeat}, Arguments: b.Arguments})
		return
	}
	p, ok := (*node).(*ast.PredicateNode)
	if !ok {
		return
	}
	if c, ok := p.Node.(*ast.CallNode); ok {
		if id, ok := c.Callee.(*ast.IdentifierNode); ok && id.Value == exprTick {
			return
		}
	}
	p.Node = &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: exprTick},
		Arguments: []ast.Node{&ast.IdentifierNode{Value: exprEval}, p.Node},
	}
}
