package evallimit

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// Measure works out what a call would build from its arguments: its size in
// bytes, or an error when it would build too much.
type Measure func(args []any) (int64, error)

// Guard is what a bounded function consults at each call: Check, when set,
// returns why the evaluation stopped; Budget is the evaluation's budget;
// Fail, when set, records a refusal and returns it.
type Guard struct {
	Check  func() error
	Budget func() *Budget
	Fail   func(error) error
}

// Wrap returns fn, of the same type, refusing a call when g.Check says the
// evaluation stopped or when m says its result exceeds what is left of g's
// budget. A refusal panics with its error: text/template and expr-lang turn
// the panic of a function they call into the error of that call. walked
// says that m measures by walking the arguments, stopping past MaxResult.
func Wrap(g Guard, name string, fn any, m Measure, walked bool) any {
	fv := reflect.ValueOf(fn)
	ft := fv.Type()
	fail := func(err error) error {
		if g.Fail != nil {
			return g.Fail(err)
		}
		return err
	}
	return reflect.MakeFunc(ft, func(in []reflect.Value) []reflect.Value {
		if g.Check != nil {
			if err := g.Check(); err != nil {
				panic(err)
			}
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
			err = g.Budget().ChargeMeasured(name, size, walked && size > MaxResult)
		}
		if err != nil {
			panic(fail(err))
		}
		if ft.IsVariadic() {
			return fv.CallSlice(in)
		}
		return fv.Call(in)
	}).Interface()
}

// WrapFuncs returns the functions of funcs that can build a string or list
// larger than their arguments (sprig's repeat, indent, nindent, replace,
// randAlphaNum and its kin, wrap, join, cat, quote, toString, toJson and its
// kin, regexReplaceAll, append, concat, deepCopy…, and fmt's print, printf
// and println and text/template's html, js and urlquery under those names)
// wrapped by Wrap with their measures, and
// uniq and mustUniq in linear time (see uniq).
func WrapFuncs(g Guard, funcs map[string]any) map[string]any {
	out := map[string]any{}
	for name, s := range sized() {
		if fn, ok := funcs[name]; ok && fn != nil {
			out[name] = Wrap(g, name, fn, s.measure, s.walked)
		}
	}
	for _, name := range []string{"uniq", "mustUniq"} {
		if _, ok := funcs[name]; ok {
			out[name] = Wrap(g, name, uniq, listSize(0), false)
		}
	}
	return out
}

// sizer is the measure of a function and whether it walks the arguments.
type sizer struct {
	measure Measure
	walked  bool
}

// sized are the functions WrapFuncs bounds.
func sized() map[string]sizer {
	exact := func(m Measure) sizer { return sizer{measure: m} }
	walk := func(m Measure) sizer { return sizer{measure: m, walked: true} }
	out := map[string]sizer{
		"repeat": exact(func(a []any) (int64, error) {
			return Mul(int64(argInt(a, 0)), int64(len(argString(a, 1)))), nil
		}),
		"indent": exact(func(a []any) (int64, error) {
			s := argString(a, 1)
			return Add(int64(len(s)), Mul(int64(argInt(a, 0)), int64(strings.Count(s, "\n")+1))), nil
		}),
		"nindent": exact(func(a []any) (int64, error) {
			s := argString(a, 1)
			return Add(int64(len(s))+1, Mul(int64(argInt(a, 0)), int64(strings.Count(s, "\n")+1))), nil
		}),
		"replace": exact(func(a []any) (int64, error) {
			old, repl, src := argString(a, 0), argString(a, 1), argString(a, 2)
			return Add(int64(len(src)), Mul(int64(strings.Count(src, old)), int64(len(repl)-len(old)))), nil
		}),
		"randBytes": exact(func(a []any) (int64, error) { return Mul(int64(argInt(a, 0)), 2), nil }),
		"wrap": exact(func(a []any) (int64, error) {
			s := argString(a, 1)
			return Add(int64(len(s)), int64(len(s)/max(argInt(a, 0), 1)+1)), nil
		}),
		"wrapWith": exact(func(a []any) (int64, error) {
			s := argString(a, 2)
			return Add(int64(len(s)), Mul(int64(len(s)/max(argInt(a, 0), 1)+1), int64(len(argString(a, 1))))), nil
		}),
		"join": walk(func(a []any) (int64, error) {
			if len(a) < 2 {
				return 0, nil
			}
			s := ShapeOf(a[1], MaxResult, 1)
			return Add(s.Size, Mul(s.Nodes, int64(len(argString(a, 0))))), nil
		}),
		"printf": walk(func(a []any) (int64, error) {
			if len(a) == 0 {
				return 0, nil
			}
			return FormattedSize(argString(a, 0), a[1:], MaxResult), nil
		}),
		"concat": exact(listSize(0)),
	}
	for _, name := range []string{"randAlphaNum", "randAlpha", "randNumeric", "randAscii"} {
		out[name] = exact(func(a []any) (int64, error) { return int64(max(argInt(a, 0), 0)), nil })
	}
	for _, name := range []string{"cat", "print", "println", "quote", "squote", "toString", "toStrings", "deepCopy", "mustDeepCopy", "sortAlpha"} {
		out[name] = walk(argsSize)
	}
	for _, name := range []string{"html", "js", "urlquery"} { // escaping may grow each byte sixfold
		out[name] = walk(func(a []any) (int64, error) {
			n, _ := argsSize(a)
			return Mul(n, 6), nil
		})
	}
	for _, name := range []string{"regexReplaceAll", "mustRegexReplaceAll"} {
		out[name] = walk(regexReplaceSize(true))
	}
	for _, name := range []string{"regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"} {
		out[name] = walk(regexReplaceSize(false))
	}
	for _, name := range []string{"toJson", "mustToJson", "toRawJson", "mustToRawJson"} {
		out[name] = walk(jsonSize(false))
	}
	for _, name := range []string{"toPrettyJson", "mustToPrettyJson"} {
		out[name] = walk(jsonSize(true))
	}
	for _, name := range []string{"append", "push", "mustAppend", "mustPush", "prepend", "mustPrepend"} {
		out[name] = exact(listSize(1))
	}
	return out
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

// argsSize bounds a print of all the arguments.
func argsSize(a []any) (int64, error) {
	var n int64
	for _, v := range a {
		n = Add(n, PrintedSize(v, MaxResult)+1)
	}
	return n, nil
}

// jsonSize bounds an encoding of the argument as JSON; indented JSON repeats
// the indentation of its depth on each line.
func jsonSize(pretty bool) Measure {
	return func(a []any) (int64, error) {
		if len(a) == 0 {
			return 0, nil
		}
		s := ShapeOf(a[0], MaxResult, 6)
		if pretty {
			return Add(s.Size, Mul(s.Nodes, int64(2*s.Depth+1))), nil
		}
		return s.Size, nil
	}
}

// regexReplaceSize bounds a regexReplaceAll(regex, s, repl): each match is
// replaced by repl, whose $ references expand to submatches, each at most
// the match.
func regexReplaceSize(expand bool) Measure {
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
				per = Add(per, Mul(int64(strings.Count(repl, "$")), int64(m[1]-m[0])))
			}
			n = Add(n, per)
			if n > MaxResult {
				break
			}
		}
		return n, nil
	}
}

// listSize bounds a list built from the lists among the arguments and extra
// more elements: at most MaxList elements, 16 bytes each.
func listSize(extra int) Measure {
	return func(a []any) (int64, error) {
		n := int64(extra)
		for _, v := range a {
			if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
				n += int64(rv.Len())
			}
		}
		if n > MaxList {
			return 0, fmt.Errorf("the list would exceed %d elements", MaxList)
		}
		return 16 * n, nil
	}
}
