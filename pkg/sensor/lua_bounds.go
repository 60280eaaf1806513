package sensor

import (
	"fmt"
	"reflect"
	"strings"

	lua "github.com/yuin/gopher-lua"
	luaast "github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/pm"

	"github.com/flintevents/flint/pkg/evallimit"
)

// boundLuaStrings replaces the functions of L's string and table libraries
// that build a string larger than their arguments (string.rep, string.gsub,
// string.format, table.concat) with ones that work out the result's size
// and charge it to b before building it, raising a Lua error beyond the
// limits, and defines the bounded `..` (see rewriteLuaConcat). string.gsub
// is also linear: gopher-lua's copies the whole string once per match.
func boundLuaStrings(L *lua.LState, b *evallimit.Budget) {
	str, ok := L.GetGlobal(lua.StringLibName).(*lua.LTable)
	if !ok {
		return
	}
	L.SetGlobal(luaConcatName, L.NewFunction(luaConcatOp(b)))
	str.RawSetString("rep", L.NewFunction(luaRep(b)))
	str.RawSetString("gsub", L.NewFunction(luaGsub(b)))
	if format, ok := str.RawGetString("format").(*lua.LFunction); ok && format.GFunction != nil {
		str.RawSetString("format", L.NewFunction(luaFormat(b, format.GFunction)))
	}
	if tbl, ok := L.GetGlobal(lua.TabLibName).(*lua.LTable); ok {
		if concat, ok := tbl.RawGetString("concat").(*lua.LFunction); ok && concat.GFunction != nil {
			tbl.RawSetString("concat", L.NewFunction(luaConcat(b, concat.GFunction)))
		}
	}
}

// luaCharge charges size bytes of fn's result to b or raises the refusal.
func luaCharge(L *lua.LState, b *evallimit.Budget, fn string, size int64) {
	if err := b.Charge(fn, size); err != nil {
		L.RaiseError("%s", err.Error())
	}
}

// luaRep is string.rep(s, n).
func luaRep(b *evallimit.Budget) lua.LGFunction {
	return func(L *lua.LState) int {
		s := L.CheckString(1)
		n := L.CheckInt(2)
		luaCharge(L, b, "string.rep", evallimit.Mul(int64(len(s)), int64(n)))
		L.Push(lua.LString(strings.Repeat(s, max(n, 0))))
		return 1
	}
}

// luaFormat is string.format, bounded by the widths and precisions of its
// format and the lengths of its arguments.
func luaFormat(b *evallimit.Budget, format lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		f := L.CheckString(1)
		widths, _ := evallimit.FormatWidths(f)
		size := evallimit.Add(int64(len(f)), widths)
		for i := 2; i <= L.GetTop(); i++ {
			size = evallimit.Add(size, luaSize(L.Get(i)))
		}
		luaCharge(L, b, "string.format", size)
		return format(L)
	}
}

// luaConcat is table.concat(t, sep, i, j), bounded by the lengths of the
// elements it joins.
func luaConcat(b *evallimit.Budget, concat lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		t := L.CheckTable(1)
		sep := int64(len(L.OptString(2, "")))
		first, last := L.OptInt(3, 1), L.OptInt(4, t.Len())
		var size int64
		for i := max(first, 1); i <= min(last, t.Len()); i++ {
			size = evallimit.Add(size, evallimit.Add(luaSize(t.RawGetInt(i)), sep))
			if size > evallimit.MaxResult {
				break
			}
		}
		luaCharge(L, b, "table.concat", size)
		return concat(L)
	}
}

// luaSize bounds how long v is as a string.
func luaSize(v lua.LValue) int64 {
	if s, ok := v.(lua.LString); ok {
		return int64(len(s))
	}
	return 32
}

// luaGsub is string.gsub(s, pattern, repl, n) as gopher-lua has it (repl a
// string with %0-%9, a table or a function), building its result once and
// refusing to grow it beyond the limits.
func luaGsub(b *evallimit.Budget) lua.LGFunction {
	return func(L *lua.LState) int {
		s := L.CheckString(1)
		pat := L.CheckString(2)
		L.CheckTypes(3, lua.LTString, lua.LTTable, lua.LTFunction)
		repl := L.CheckAny(3)
		limit := L.OptInt(4, -1)
		src := []byte(s)
		out := luaBuilder{L: L, budget: b, fn: "string.gsub"}
		last, count := 0, 0
		// Matches are found a batch at a time, so that the result's size
		// and the evaluation's context are checked as it grows.
		for offset := 0; ; {
			n := gsubBatch
			if limit >= 0 {
				n = min(n, limit-count)
			}
			if n == 0 {
				break
			}
			matches, err := pm.Find(pat, src, offset, n)
			if err != nil {
				L.RaiseError("%s", err.Error())
			}
			for _, m := range matches {
				start, end := m.Capture(0), m.Capture(1)
				out.add(s[last:start])
				if r, ok := gsubReplacement(L, s, repl, m); ok {
					out.add(r)
				} else {
					out.add(s[start:end])
				}
				last, offset = end, max(start+1, end)
			}
			count += len(matches)
			if len(matches) < n || strings.HasPrefix(pat, "^") || offset > len(s) {
				break
			}
			if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
				L.RaiseError("%s", ctx.Err().Error())
			}
		}
		if count == 0 {
			L.SetTop(1)
			L.Push(lua.LNumber(0))
			return 2
		}
		out.add(s[last:])
		luaCharge(L, b, "string.gsub", int64(out.sb.Len()))
		L.Push(lua.LString(out.sb.String()))
		L.Push(lua.LNumber(count))
		return 2
	}
}

// gsubBatch is how many matches string.gsub finds at a time.
const gsubBatch = 1024

// luaBuilder builds a result no longer than evallimit.MaxResult and what is left
// of its evaluation's budget.
type luaBuilder struct {
	L      *lua.LState
	budget *evallimit.Budget
	fn     string
	sb     strings.Builder
}

func (o *luaBuilder) add(s string) {
	if n := int64(o.sb.Len() + len(s)); n > min(evallimit.MaxResult, o.budget.Left()) {
		o.L.RaiseError("%s", o.budget.ChargeMeasured(o.fn, n, true).Error())
	}
	o.sb.WriteString(s)
}

// gsubReplacement is what replaces match m: ok is false when a table or
// function gives false or nil, which keeps the match.
func gsubReplacement(L *lua.LState, s string, repl lua.LValue, m *pm.MatchData) (string, bool) {
	switch repl := repl.(type) {
	case lua.LString:
		var sb strings.Builder
		r := string(repl)
		for i := 0; i < len(r); i++ {
			c := r[i]
			if c != '%' || i == len(r)-1 {
				sb.WriteByte(c)
				continue
			}
			i++
			switch d := r[i]; {
			case d == '%':
				sb.WriteByte('%')
			case d >= '0' && d <= '9':
				sb.WriteString(gsubCapture(L, s, m, 2*int(d-'0')))
			default:
				sb.WriteByte('%')
				sb.WriteByte(d)
			}
			if sb.Len() > evallimit.MaxResult {
				break
			}
		}
		return sb.String(), true
	case *lua.LTable:
		idx := 0
		if m.CaptureLength() > 2 {
			idx = 2
		}
		var v lua.LValue
		if m.IsPosCapture(idx) {
			v = L.GetTable(repl, lua.LNumber(m.Capture(idx)))
		} else {
			v = L.GetField(repl, s[m.Capture(idx):m.Capture(idx+1)])
		}
		return lua.LVAsString(v), !lua.LVIsFalse(v)
	case *lua.LFunction:
		L.Push(repl)
		n := 0
		if m.CaptureLength() > 2 {
			for i := 2; i < m.CaptureLength(); i += 2 {
				if m.IsPosCapture(i) {
					L.Push(lua.LNumber(m.Capture(i)))
				} else {
					L.Push(lua.LString(gsubCapture(L, s, m, i)))
				}
				n++
			}
		} else {
			L.Push(lua.LString(gsubCapture(L, s, m, 0)))
			n++
		}
		L.Call(n, 1)
		v := L.Get(-1)
		L.Pop(1)
		return lua.LVAsString(v), !lua.LVIsFalse(v)
	}
	return "", false
}

// gsubCapture is capture idx/2 of m (%1 without captures is the whole
// match), a position capture as its number.
func gsubCapture(L *lua.LState, s string, m *pm.MatchData, idx int) string {
	if idx > 2 && idx >= m.CaptureLength() {
		L.RaiseError("invalid capture index")
	}
	if idx >= m.CaptureLength() && idx == 2 {
		idx = 0
	}
	if m.IsPosCapture(idx) {
		return fmt.Sprint(m.Capture(idx))
	}
	return s[m.Capture(idx):m.Capture(idx+1)]
}

// luaConcatName is the global every `..` of a script calls once
// rewriteLuaConcat has rewritten it: a name no script can write. gopher-lua
// joins the operands of a chain of `..` in one allocation, so a script
// could multiply a string of megabytes by a hundred in one expression
// before the memory guard looks.
const luaConcatName = "bounded concatenation"

// rewriteLuaConcat rewrites every `a .. b` of a parsed chunk into a call of
// luaConcatName(a, b); `..` is right-associative, so a chain becomes nested
// calls that join the same operands in the same order.
func rewriteLuaConcat(chunk []luaast.Stmt) {
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Interface, reflect.Pointer:
			if v.IsNil() {
				return
			}
			walk(v.Elem())
			c, ok := v.Interface().(*luaast.StringConcatOpExpr)
			if !ok || v.Kind() != reflect.Interface || !v.CanSet() {
				return
			}
			fn := &luaast.IdentExpr{Value: luaConcatName}
			fn.SetLine(c.Line())
			fn.SetLastLine(c.LastLine())
			call := &luaast.FuncCallExpr{Func: fn, Args: []luaast.Expr{c.Lhs, c.Rhs}}
			call.SetLine(c.Line())
			call.SetLastLine(c.LastLine())
			v.Set(reflect.ValueOf(luaast.Expr(call)))
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(chunk))
}

// luaConcatOp is `a .. b`: strings and numbers are joined up to
// evallimit.MaxResult bytes (a concatenation is not charged to the
// evaluation's budget: a loop appending to a string builds each prefix);
// other operands go to their __concat metamethod, as in Lua.
func luaConcatOp(b *evallimit.Budget) lua.LGFunction {
	return func(L *lua.LState) int {
		lhs, rhs := L.Get(1), L.Get(2)
		if lua.LVCanConvToString(lhs) && lua.LVCanConvToString(rhs) {
			l, r := lua.LVAsString(lhs), lua.LVAsString(rhs)
			if n := int64(len(l)) + int64(len(r)); n > evallimit.MaxResult {
				err := &evallimit.Error{Func: "concatenation", Size: n}
				b.Refused = err
				L.RaiseError("%s", err.Error())
			}
			L.Push(lua.LString(l + r))
			return 1
		}
		mm := L.GetMetaField(lhs, "__concat")
		if mm == lua.LNil {
			mm = L.GetMetaField(rhs, "__concat")
		}
		if mm.Type() != lua.LTFunction {
			L.RaiseError("cannot perform concat operation between %v and %v", lhs.Type().String(), rhs.Type().String())
		}
		L.Push(mm)
		L.Push(lhs)
		L.Push(rhs)
		L.Call(2, 1)
		return 1
	}
}
