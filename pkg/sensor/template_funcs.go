package sensor

import (
	"fmt"
	"text/template"
	"text/template/parse"

	"github.com/flintevents/flint/pkg/evallimit"
)

// Names of the functions a compiled template calls without its author
// writing them: checkFunc at the start of every template and of every range
// iteration, printFunc at the end of every pipeline whose value is printed.
const (
	checkFunc = "_evalCheck"
	printFunc = "_evalPrint"
)

// renderState is what the functions of one render see: its evaluation and
// what they built so far. A render runs on one goroutine.
type renderState struct {
	eval   *evaluation
	budget evallimit.Budget
	err    error // the first limit a function hit
}

// fail records err as the reason the render stopped and returns it.
func (st *renderState) fail(err error) error {
	if st.err == nil {
		st.err = err
	}
	return err
}

// check returns why the evaluation stopped, if it did.
func (st *renderState) check() error {
	if st.eval == nil {
		return nil
	}
	if err := st.eval.err(); err != nil {
		return st.fail(err)
	}
	return nil
}

// instrument makes every template of t stoppable and bounded: a call of
// checkFunc opens each template body (recursion) and each range iteration
// (loops), so that a render stops within one iteration of its limit, and
// printFunc ends each printing pipeline, so that fmt is never asked to print
// a value larger than a template may write.
func instrument(t *template.Template) {
	seen := map[*parse.Tree]bool{}
	for _, tt := range t.Templates() {
		if tt.Tree == nil || tt.Tree.Root == nil || seen[tt.Tree] {
			continue
		}
		seen[tt.Tree] = true
		instrumentList(tt.Tree, tt.Tree.Root)
		prependCheck(tt.Tree, tt.Tree.Root)
	}
}

func instrumentList(tr *parse.Tree, l *parse.ListNode) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			if len(n.Pipe.Decl) == 0 {
				n.Pipe.Cmds = append(n.Pipe.Cmds, callNode(tr, n.Pos, printFunc))
			}
		case *parse.IfNode:
			instrumentList(tr, n.List)
			instrumentList(tr, n.ElseList)
		case *parse.WithNode:
			instrumentList(tr, n.List)
			instrumentList(tr, n.ElseList)
		case *parse.RangeNode:
			instrumentList(tr, n.List)
			instrumentList(tr, n.ElseList)
			prependCheck(tr, n.List)
		}
	}
}

// prependCheck makes l start with a call of checkFunc, which prints nothing.
func prependCheck(tr *parse.Tree, l *parse.ListNode) {
	action := &parse.ActionNode{NodeType: parse.NodeAction, Pos: l.Pos,
		Pipe: &parse.PipeNode{NodeType: parse.NodePipe, Pos: l.Pos, Cmds: []*parse.CommandNode{callNode(tr, l.Pos, checkFunc)}}}
	l.Nodes = append([]parse.Node{action}, l.Nodes...)
}

func callNode(tr *parse.Tree, pos parse.Pos, name string) *parse.CommandNode {
	return &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos,
		Args: []parse.Node{parse.NewIdentifier(name).SetTree(tr).SetPos(pos)}}
}

// boundTemplateFuncs returns the functions of one render's template that
// differ from templateFuncs: the checks instrument inserts, the functions
// that can build a large string or list from small arguments bounded by
// evallimit (sprig's, and text/template's print, printf, println, html, js
// and urlquery), and
// until, untilStep and seq checking the evaluation too.
func boundTemplateFuncs(st *renderState) template.FuncMap {
	g := evallimit.Guard{Check: st.check, Budget: func() *evallimit.Budget { return &st.budget }, Fail: st.fail}
	base := templateFuncs()
	all := make(map[string]any, len(base)+6)
	for name, fn := range base {
		all[name] = fn
	}
	all["print"], all["printf"], all["println"] = fmt.Sprint, fmt.Sprintf, fmt.Sprintln
	all["html"], all["js"], all["urlquery"] = template.HTMLEscaper, template.JSEscaper, template.URLQueryEscaper
	funcs := template.FuncMap(evallimit.WrapFuncs(g, all))
	for _, name := range []string{"until", "untilStep", "seq"} {
		funcs[name] = evallimit.Wrap(g, name, base[name], func([]any) (int64, error) { return 0, nil }, false)
	}
	funcs[checkFunc] = func() (string, error) { return "", st.check() }
	funcs[printFunc] = func(v any) (any, error) {
		if err := st.check(); err != nil {
			return nil, err
		}
		if evallimit.PrintedSize(v, maxTemplateOutput) > maxTemplateOutput {
			return nil, st.fail(fmt.Errorf("template output exceeds %d bytes", maxTemplateOutput))
		}
		return v, nil
	}
	return funcs
}
