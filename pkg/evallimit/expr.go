package evallimit

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// ExprCheck is the name under which an expr-lang evaluation compiled with
// ExprOptions finds its check in its environment: a func() error that
// returns why the evaluation stopped, or nil. No expression can write the
// name; an environment without it is never checked.
const ExprCheck = "$eval"

// Functions the compiled expression calls without its author writing them.
const (
	exprTick   = "$tick"
	exprRepeat = "$repeat"
)

// ExprOptions bound an expr-lang program: each step of a predicate (the
// body of all, any, map, filter…) calls the evaluation's check, so that a
// looping expression stops within one step of its limit instead of running
// on after it was abandoned, and repeat refuses results beyond MaxResult
// (expr-lang's own allows a million repetitions of a string of any length).
// A compiler with a typed environment must declare ExprCheck in it.
func ExprOptions() []expr.Option {
	return []expr.Option{
		expr.Function(exprTick, exprTickFunc),
		expr.Function(exprRepeat, exprRepeatFunc, new(func(string, int) (string, error))),
		expr.Patch(exprPatcher{}),
	}
}

// exprTickFunc returns its second argument, or the error of the check that
// is its first.
func exprTickFunc(params ...any) (any, error) {
	if check, ok := params[0].(func() error); ok && check != nil {
		if err := check(); err != nil {
			return nil, err
		}
	}
	return params[1], nil
}

// exprRepeatFunc is repeat(s, n).
func exprRepeatFunc(params ...any) (any, error) {
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
	if err := (&Budget{}).Charge("repeat", Mul(int64(len(s)), int64(n))); err != nil {
		return nil, err
	}
	return strings.Repeat(s, n), nil
}

// exprPatcher wraps the body of every predicate in a call of exprTick and
// makes every call of the builtin repeat one of exprRepeat.
type exprPatcher struct{}

// Visit implements ast.Visitor.
func (exprPatcher) Visit(node *ast.Node) {
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
		Arguments: []ast.Node{&ast.IdentifierNode{Value: ExprCheck}, p.Node},
	}
}
