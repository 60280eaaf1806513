package sensor

import (
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
// gojq. jq's other ways of building strings (+, join, tojson, add) grow one
// step at a time and stop at the memory guard.
const jqMultiply = "_bounded_multiply"

// jqOptions are the compiler options of every jq transform.
func jqOptions() []gojq.CompilerOption {
	return []gojq.CompilerOption{gojq.WithFunction(jqMultiply, 2, 2, boundedMultiply)}
}

// gojqMultiply is gojq's own `*`, for the products jqMultiply lets through.
var gojqMultiply = sync.OnceValue(func() *gojq.Code {
	q, err := gojq.Parse(".[0] * .[1]")
	if err != nil {
		panic(err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		panic(err)
	}
	return code
})

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
	var times float64
	switch n := n.(type) {
	case int:
		times = float64(n)
	case float64:
		times = n
	case *big.Int:
		times, _ = new(big.Float).SetInt(n).Float64()
	default:
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

// boundJQ rewrites every `l * r` of q into jqMultiply(l; r) and every
// `l *= r` into `(r) as $v | (l) |= jqMultiply(.; $v)`, which is what gojq
// compiles it to.
func boundJQ(q *gojq.Query) error {
	var err error
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				return
			}
			walk(v.Elem())
			if q, ok := v.Interface().(*gojq.Query); ok && err == nil {
				err = rewriteMultiply(q)
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
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if t, ok := v.Interface().(*gojq.Term); ok && t.Type == gojq.TermTypeFunc && subs[t.Func.Name] != nil && len(t.Func.Args) == 0 {
			t.Type, t.Query, t.Func = gojq.TermTypeQuery, subs[t.Func.Name], nil
		}
		fill(v.Elem(), subs)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), subs)
		}
	case reflect.Slice:
		for i := range v.Len() {
			fill(v.Index(i), subs)
		}
	}
}
