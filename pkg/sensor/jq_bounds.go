package sensor

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sync"

	"github.com/itchyny/gojq"

	"github.com/flintevents/flint/pkg/evallimit"
)

// jqMultiply is the function every `*` and `*=` of a jq transform calls
// instead of gojq's operator. gojq repeats a string up to 2 GiB in one
// allocation (`"x" * 1500000000`) and lets no option replace an operator, so
// the parsed program is rewritten before it is compiled; jqMultiply refuses
// a repetition beyond evallimit.MaxResult and leaves every other product to
// gojq. Building a string with + or an array with [range(n)] grows one step
// at a time, each step at most doubling, and stops at the memory guard.
const jqMultiply = "_bounded_multiply"

// jqIndex and jqPath are the functions every array index and every path
// given to setpath pass through: gojq fills an array up to an
// index set in one allocation (`.[67108000] = 1` is 1 GiB), so an index
// beyond maxJQIndex is refused.
const (
	jqIndex = "_bounded_index"
	jqPath  = "_bounded_path"
	// maxJQIndex bounds the array index a jq transform may use: an array
	// filled up to it takes 64 MiB.
	maxJQIndex = 1 << 22
)

// jqInput and jqJoin bound the builtins that print or join a whole value
// in one call (join, add, tojson, tostring, @csv and the other formats,
// string interpolation), which no context stops: an array of a thousand
// references to a 4 MB string joins into 4 GB. jqInput(name) passes its
// input on when its printed size is within maxJQPrint; jqJoin(sep) is
// join(sep) checked the same way.
const (
	jqInput    = "_bounded_input"
	jqJoin     = "_bounded_join"
	maxJQPrint = evallimit.PerEvaluation
)

// jqOptions are the compiler options of every jq transform.
func jqOptions() []gojq.CompilerOption {
	return []gojq.CompilerOption{
		gojq.WithFunction(jqMultiply, 2, 2, boundedMultiply),
		gojq.WithFunction(jqInput, 1, 1, func(v any, args []any) any {
			name, _ := args[0].(string)
			if err := checkPrint(name, v, ""); err != nil {
				return err
			}
			return v
		}),
		gojq.WithFunction(jqJoin, 1, 1, func(v any, args []any) any {
			sep, _ := args[0].(string)
			if err := checkPrint("join", v, sep); err != nil {
				return err
			}
			out, _ := gojqJoin().Run(v, args[0]).Next()
			return out
		}),
		gojq.WithFunction(jqIndex, 1, 1, func(_ any, args []any) any { return checkIndex(args[0]) }),
		gojq.WithFunction(jqPath, 1, 1, func(_ any, args []any) any {
			if p, ok := args[0].([]any); ok {
				for _, e := range p {
					if err, ok := checkIndex(e).(error); ok {
						return err
					}
				}
			}
			return args[0]
		}),
	}
}

// checkIndex returns v, or an error when v is an array index beyond maxJQIndex.
func checkIndex(v any) any {
	f, ok := jqNumber(v)
	if !ok {
		return v
	}
	if f > maxJQIndex {
		return fmt.Errorf("array index %v exceeds the limit of %d", v, maxJQIndex)
	}
	return v
}

// jqNumber is v as a float64 when v is one of gojq's numbers (int, float64,
// *big.Int).
func jqNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case float64:
		return n, true
	case *big.Int:
		f, _ := new(big.Float).SetInt(n).Float64()
		return f, true
	}
	return 0, false
}

// checkPrint refuses to print v, its elements joined by sep, beyond maxJQPrint.
func checkPrint(name string, v any, sep string) error {
	s := evallimit.ShapeOf(v, maxJQPrint, 1)
	if size := evallimit.Add(s.Size, evallimit.Mul(s.Nodes, int64(len(sep)))); size > maxJQPrint {
		return &evallimit.Error{Func: name, Size: size, AtLeast: true, Limit: maxJQPrint}
	}
	return nil
}

// gojqJoin is gojq's own join($sep), for the joins jqJoin lets through.
var gojqJoin = sync.OnceValue(func() *gojq.Code {
	return mustCompileJQ("join($sep)", gojq.WithVariables([]string{"$sep"}))
})

func mustCompileJQ(src string, opts ...gojq.CompilerOption) *gojq.Code {
	q, err := gojq.Parse(src)
	if err != nil {
		panic(err)
	}
	code, err := gojq.Compile(q, opts...)
	if err != nil {
		panic(err)
	}
	return code
}

// gojqMultiply is gojq's own `*`, for the products jqMultiply lets through.
var gojqMultiply = sync.OnceValue(func() *gojq.Code { return mustCompileJQ(".[0] * .[1]") })

// boundedMultiply is `l * r` with args [l, r].
func boundedMultiply(_ any, args []any) any {
	l, r := args[0], args[1]
	if s, ok := l.(string); ok {
		if err := checkRepeat(s, r); err != nil {
			return err
		}
	} else if s, ok := r.(string); ok {
		if err := checkRepeat(s, l); err != nil {
			return err
		}
	}
	v, _ := gojqMultiply().Run([]any{l, r}).Next()
	return v
}

// checkRepeat refuses a repetition of s n times beyond evallimit.MaxResult.
func checkRepeat(s string, n any) error {
	times, ok := jqNumber(n)
	if !ok {
		return nil
	}
	if math.IsNaN(times) || times <= 0 || len(s) == 0 {
		return nil
	}
	size := int64(math.MaxInt64)
	if times < float64(math.MaxInt64/len(s)) {
		size = int64(len(s)) * int64(times)
	}
	return (&evallimit.Budget{}).Charge("string repetition", size)
}

// boundJQ rewrites every `l * r` of q into jqMultiply(l; r), every
// `l *= r` into `(r) as $v | (l) |= jqMultiply(.; $v)`, which is what gojq
// compiles it to, every index `.[i]` into `.[jqIndex(i)]`, and every
// setpath(p; v) into setpath(jqPath(p); v).
func boundJQ(q *gojq.Query) error {
	var err error
	defined := map[string]bool{} // names the program defines, left as they are
	collectFuncDefs(reflect.ValueOf(q), defined)
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				return
			}
			walk(v.Elem())
			switch n := v.Interface().(type) {
			case *gojq.Query:
				if err == nil {
					err = rewriteMultiply(n)
				}
			case *gojq.Index:
				if !n.IsSlice { // a slice past the end is empty, never filled
					n.Start = wrapQuery(jqIndex, n.Start)
				}
			case *gojq.Func:
				if n.Name == "setpath" && len(n.Args) == 2 {
					n.Args[0] = wrapQuery(jqPath, n.Args[0])
				}
			case *gojq.Term:
				rewritePrint(n, defined)
			}
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(q))
	return err
}

// rewritePrint bounds a term that prints or joins a whole value (see
// jqInput): join(sep) becomes jqJoin(sep); add, tojson, tostring and a
// format such as @csv become (jqInput(name) | f); add(f) becomes
// ([f] | jqInput("add") | add), which is what gojq defines it as; each
// interpolation of a string becomes (q | jqInput("string interpolation")).
func rewritePrint(t *gojq.Term, defined map[string]bool) {
	check := func(name string) *gojq.Query {
		return wrapQuery(jqInput, &gojq.Query{Term: &gojq.Term{Type: gojq.TermTypeString, Str: &gojq.String{Str: name}}})
	}
	pipe := func(l, r *gojq.Query) *gojq.Query { return &gojq.Query{Left: l, Op: gojq.OpPipe, Right: r} }
	switch {
	case t.Type == gojq.TermTypeFunc && !defined[t.Func.Name]:
		f := t.Func
		switch {
		case f.Name == "join" && len(f.Args) == 1:
			f.Name = jqJoin
		case (f.Name == "add" || f.Name == "tojson" || f.Name == "tostring") && len(f.Args) == 0:
			t.Type, t.Func = gojq.TermTypeQuery, nil
			t.Query = pipe(check(f.Name), &gojq.Query{Term: &gojq.Term{Type: gojq.TermTypeFunc, Func: f}})
		case f.Name == "add" && len(f.Args) == 1:
			t.Type, t.Func = gojq.TermTypeQuery, nil
			collect := &gojq.Query{Term: &gojq.Term{Type: gojq.TermTypeArray, Array: &gojq.Array{Query: f.Args[0]}}}
			t.Query = pipe(collect, pipe(check("add"), &gojq.Query{Term: &gojq.Term{Type: gojq.TermTypeFunc, Func: &gojq.Func{Name: "add"}}}))
		}
	case t.Type == gojq.TermTypeFormat && t.Str == nil:
		format := &gojq.Term{Type: gojq.TermTypeFormat, Format: t.Format}
		t.Type, t.Format = gojq.TermTypeQuery, ""
		t.Query = pipe(check(format.Format), &gojq.Query{Term: format})
	case t.Str != nil:
		for i, q := range t.Str.Queries {
			if q.Term == nil || q.Term.Str == nil { // not a literal part
				t.Str.Queries[i] = &gojq.Query{Term: &gojq.Term{Type: gojq.TermTypeQuery, Query: pipe(q, check("string interpolation"))}}
			}
		}
	}
}

// collectFuncDefs adds the name of every function v defines to names.
func collectFuncDefs(v reflect.Value, names map[string]bool) {
	walkPointers(v, func(p any) {
		if d, ok := p.(*gojq.FuncDef); ok {
			names[d.Name] = true
		}
	})
}

// walkPointers calls visit with every non-nil pointer reachable from v
// through pointers, struct fields and slices, before it descends into what
// the pointer points to.
func walkPointers(v reflect.Value, visit func(any)) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		visit(v.Interface())
		walkPointers(v.Elem(), visit)
	case reflect.Struct:
		for i := range v.NumField() {
			walkPointers(v.Field(i), visit)
		}
	case reflect.Slice:
		for i := range v.Len() {
			walkPointers(v.Index(i), visit)
		}
	}
}

// wrapQuery is fn(q), or nil for no q.
func wrapQuery(fn string, q *gojq.Query) *gojq.Query {
	if q == nil {
		return nil
	}
	return &gojq.Query{Term: &gojq.Term{Type: gojq.TermTypeFunc, Func: &gojq.Func{Name: fn, Args: []*gojq.Query{q}}}}
}

// jqUpdateMultiply is the template of a rewritten `l *= r`.
const jqUpdateMultiply = `__r as $__bounded_v | __l |= ` + jqMultiply + `(.; $__bounded_v)`

func rewriteMultiply(q *gojq.Query) error {
	switch q.Op {
	case gojq.OpMul:
		q.Term = &gojq.Term{Type: gojq.TermTypeFunc, Func: &gojq.Func{Name: jqMultiply, Args: []*gojq.Query{q.Left, q.Right}}}
	case gojq.OpUpdateMul:
		tmpl, err := gojq.Parse(jqUpdateMultiply)
		if err != nil {
			return err
		}
		fill(reflect.ValueOf(tmpl), map[string]*gojq.Query{"__l": q.Left, "__r": q.Right})
		*q = *tmpl
		return nil
	default:
		return nil
	}
	q.Left, q.Right, q.Op = nil, nil, 0
	return nil
}

// fill replaces each call of a placeholder named in subs by the query.
func fill(v reflect.Value, subs map[string]*gojq.Query) {
	walkPointers(v, func(p any) {
		if t, ok := p.(*gojq.Term); ok && t.Type == gojq.TermTypeFunc && subs[t.Func.Name] != nil && len(t.Func.Args) == 0 {
			t.Type, t.Query, t.Func = gojq.TermTypeQuery, subs[t.Func.Name], nil
		}
	})
}
