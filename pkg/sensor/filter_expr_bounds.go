package sensor

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// Names an expression filter is compiled with that no expression can write:
// exprTick is called with exprEval at each step of a predicate (the body of
// all, any, map, filter…), so that a looping expression stops within one
// step of its evaluation's limit instead of running on after it was
// abandoned.
const (
	exprTick = "$tick"
	exprEval = "$eval"
)

// exprBounds are the options that bound an expression filter: the tick of
// its loops and a repeat that refuses results beyond maxEvalOutput (expr's
// own allows a million repetitions of a string of any length).
func exprBounds() []expr.Option {
	return []expr.Option{
		expr.Function(exprTick, exprTickFunc),
		expr.Patch(tickPatcher{}),
		expr.DisableBuiltin("repeat"),
		expr.Function("repeat", exprRepeat, new(func(string, int) (string, error))),
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

// exprRepeat is repeat(s, n).
func exprRepeat(params ...any) (any, error) {
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
	if err := (&outputBudget{}).charge("repeat", mulSize(int64(len(s)), int64(n))); err != nil {
		return nil, err
	}
	return strings.Repeat(s, n), nil
}

// tickPatcher wraps the body of every predicate in a call of exprTick.
type tickPatcher struct{}

// Visit implements ast.Visitor.
func (tickPatcher) Visit(node *ast.Node) {
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
