package sensor

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"text/template"
	"text/template/parse"
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
	budget outputBudget
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

// measure works out what a call would build from its arguments: its size in
// bytes, or an error when it would build too much.
type measure func(args []any) (int64, error)

// boundTemplateFuncs returns the functions of one render's template that
// differ from templateFuncs: the checks instrument inserts, and each sprig or
// built-in function that can build a large string or list from small
// arguments, which now works out its result's size, charges it to the
// render's budget, and refuses it beyond the limits before building it.
func boundTemplateFuncs(st *renderState) template.FuncMap {
	base := templateFuncs()
	funcs := template.FuncMap{
		checkFunc: func() (string, error) { return "", st.check() },
		printFunc: func(v any) (any, error) {
			if err := st.check(); err != nil {
				return nil, err
			}
			if printedSize(v, maxTemplateOutput) > maxTemplateOutput {
				return nil, st.fail(fmt.Errorf("template output exceeds %d bytes", maxTemplateOutput))
			}
			return v, nil
		},
	}
	sized := func(name string, fn any, m measure) {
		funcs[name] = checked(st, name, fn, m)
	}
	for name, m := range map[string]measure{
		"repeat": func(a []any) (int64, error) {
			return mulSize(int64(argInt(a, 0)), int64(len(argString(a, 1)))), nil
		},
		"indent": func(a []any) (int64, error) {
			s := argString(a, 1)
			return addSize(int64(len(s)), mulSize(int64(argInt(a, 0)), int64(strings.Count(s, "\n")+1))), nil
		},
		"nindent": func(a []any) (int64, error) {
			s := argString(a, 1)
			return addSize(int64(len(s))+1, mulSize(int64(argInt(a, 0)), int64(strings.Count(s, "\n")+1))), nil
		},
		"replace": func(a []any) (int64, error) {
			old, repl, src := argString(a, 0), argString(a, 1), argString(a, 2)
			grow := int64(len(repl) - len(old))
			return addSize(int64(len(src)), mulSize(int64(strings.Count(src, old)), grow)), nil
		},
		"randAlphaNum": countSize, "randAlpha": countSize, "randNumeric": countSize, "randAscii": countSize,
		"randBytes": func(a []any) (int64, error) { return mulSize(int64(argInt(a, 0)), 2), nil },
		"wrap": func(a []any) (int64, error) {
			s := argString(a, 1)
			return addSize(int64(len(s)), int64(len(s)/max(argInt(a, 0), 1)+1)), nil
		},
		"wrapWith": func(a []any) (int64, error) {
			s := argString(a, 2)
			return addSize(int64(len(s)), mulSize(int64(len(s)/max(argInt(a, 0), 1)+1), int64(len(argString(a, 1))))), nil
		},
		"join": func(a []any) (int64, error) {
			if len(a) < 2 {
				return 0, nil
			}
			s := shapeOf(a[1], maxEvalOutput, 1)
			return addSize(s.size, mulSize(s.nodes, int64(len(argString(a, 0))))), nil
		},
		"cat": argsSize, "print": argsSize, "println": argsSize, "quote": argsSize, "squote": argsSize,
		"toString": argsSize, "toStrings": argsSize, "deepCopy": argsSize, "mustDeepCopy": argsSize,
		"printf": func(a []any) (int64, error) {
			if len(a) == 0 {
				return 0, nil
			}
			return formattedSize(argString(a, 0), a[1:], maxEvalOutput), nil
		},
		"regexReplaceAll":            regexReplaceSize(true),
		"mustRegexReplaceAll":        regexReplaceSize(true),
		"regexReplaceAllLiteral":     regexReplaceSize(false),
		"mustRegexReplaceAllLiteral": regexReplaceSize(false),
		"toJson":                     jsonSize(false), "mustToJson": jsonSize(false), "toRawJson": jsonSize(false), "mustToRawJson": jsonSize(false),
		"toPrettyJson": jsonSize(true), "mustToPrettyJson": jsonSize(true),
		"append": listSize(1), "push": listSize(1), "mustAppend": listSize(1), "mustPush": listSize(1),
		"prepend": listSize(1), "mustPrepend": listSize(1), "concat": listSize(0),
		"until": noSize, "untilStep": noSize, "seq": noSize,
	} {
		fn, ok := base[name]
		if !ok {
			fn = builtinFunc(name)
		}
		if fn != nil {
			sized(name, fn, m)
		}
	}
	return funcs
}

// walkedSizes are the functions whose size is measured by walking their
// arguments, which stops once past maxEvalOutput.
var walkedSizes = map[string]bool{
	"join": true, "cat": true, "print": true, "println": true, "quote": true, "squote": true,
	"toString": true, "toStrings": true, "deepCopy": true, "mustDeepCopy": true, "printf": true,
	"toJson": true, "mustToJson": true, "toRawJson": true, "mustToRawJson": true,
	"toPrettyJson": true, "mustToPrettyJson": true, "regexReplaceAll": true, "mustRegexReplaceAll": true,
	"regexReplaceAllLiteral": true, "mustRegexReplaceAllLiteral": true,
}

// builtinFunc is text/template's own print, println or printf, which a
// function map may replace.
func builtinFunc(name string) any {
	switch name {
	case "print":
		return fmt.Sprint
	case "println":
		return fmt.Sprintln
	case "printf":
		return fmt.Sprintf
	}
	return nil
}

// checked returns fn, of the same type, stopping the render when its
// evaluation stopped and refusing the call when m says it builds too much.
// A template function that panics fails its render with the panic's error.
func checked(st *renderState, name string, fn any, m measure) any {
	fv := reflect.ValueOf(fn)
	ft := fv.Type()
	return reflect.MakeFunc(ft, func(in []reflect.Value) []reflect.Value {
		if err := st.check(); err != nil {
			panic(err)
		}
		args := make([]any, 0, len(in))
		for i, v := range in {
			if ft.IsVariadic() && i == len(in)-1 {
				for j := range v.Len() {
					args = append(args, v.Index(j).Interface())
				}
				continue
			}
			args = append(args, v.Interface())
		}
		size, err := m(args)
		if err != nil {
			err = fmt.Errorf("%s: %w", name, err)
		} else {
			err = st.budget.chargeMeasured(name, size, walkedSizes[name] && size > maxEvalOutput)
		}
		if err != nil {
			panic(st.fail(err))
		}
		if ft.IsVariadic() {
			return fv.CallSlice(in)
		}
		return fv.Call(in)
	}).Interface()
}

func argInt(a []any, i int) int {
	if i < len(a) {
		if rv := reflect.ValueOf(a[i]); rv.CanInt() {
			return int(rv.Int())
		}
	}
	return 0
}

func argString(a []any, i int) string {
	if i < len(a) {
		if s, ok := a[i].(string); ok {
			return s
		}
	}
	return ""
}

func noSize([]any) (int64, error) { return 0, nil }

// countSize is the size of randAlphaNum and its kin: their count.
func countSize(a []any) (int64, error) { return int64(max(argInt(a, 0), 0)), nil }

// argsSize bounds a print of all the arguments.
func argsSize(a []any) (int64, error) {
	var n int64
	for _, v := range a {
		n = addSize(n, printedSize(v, maxEvalOutput)+1)
	}
	return n, nil
}

// jsonSize bounds an encoding of the argument as JSON; indented JSON repeats
// the indentation of its depth on each line.
func jsonSize(pretty bool) measure {
	return func(a []any) (int64, error) {
		if len(a) == 0 {
			return 0, nil
		}
		s := shapeOf(a[0], maxEvalOutput, 6)
		if pretty {
			return addSize(s.size, mulSize(s.nodes, int64(2*s.depth+1))), nil
		}
		return s.size, nil
	}
}

// regexReplaceSize bounds a regexReplaceAll(regex, s, repl): each match is
// replaced by repl, whose $ references expand to submatches, each at most
// the match.
func regexReplaceSize(expand bool) measure {
	return func(a []any) (int64, error) {
		re, err := regexp.Compile(argString(a, 0))
		if err != nil {
			return 0, nil // the function reports it
		}
		s, repl := argString(a, 1), argString(a, 2)
		n := int64(len(s))
		for _, m := range re.FindAllStringIndex(s, -1) {
			per := int64(len(repl))
			if expand {
				per = addSize(per, mulSize(int64(strings.Count(repl, "$")), int64(m[1]-m[0])))
			}
			n = addSize(n, per)
			if n > maxEvalOutput {
				break
			}
		}
		return n, nil
	}
}

// listSize bounds a list built from the lists among the arguments and extra
// more elements: at most maxTemplateList elements, 16 bytes each.
func listSize(extra int) measure {
	return func(a []any) (int64, error) {
		n := int64(extra)
		for _, v := range a {
			if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
				n += int64(rv.Len())
			}
		}
		if n > maxTemplateList {
			return 0, fmt.Errorf("the list would exceed %d elements", maxTemplateList)
		}
		return 16 * n, nil
	}
}
