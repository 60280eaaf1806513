package sensor

import (
	"context"
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/evallimit"
)

// compileLua parses and compiles a Lua chunk once, its `..` bounded (see
// rewriteLuaConcat); the prototype is shared by the fresh state every run
// uses.
func compileLua(name, src string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		return nil, oneLineError{err}
	}
	rewriteLuaConcat(chunk)
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, oneLineError{err}
	}
	return proto, nil
}

// luaProblem reports a script that does not compile at field.
func luaProblem(err error, field string) *apis.FieldError {
	return &apis.FieldError{Message: "invalid Lua script", Paths: []string{field},
		Details: strings.Join(strings.Fields(err.Error()), " ")}
}

// newLuaState returns a small Lua state, bound to ctx, with the base (without
// file loading), table, string, math and coroutine
// libraries and os.time, os.date, os.clock and os.difftime: what filter and
// transform scripts use, without access to files, processes or the
// environment. Its call stack and registry are bounded, and the string
// functions that build large strings charge them to budget (see
// boundLuaStrings).
func newLuaState(ctx context.Context, budget *evallimit.Budget) *lua.LState {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       64,
		RegistrySize:        256,
		RegistryMaxSize:     256 * 64,
		RegistryGrowStep:    256,
		MinimizeStackMemory: true,
	})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
		{lua.OsLibName, lua.OpenOs},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	for _, name := range []string{"dofile", "loadfile", "require", "module"} {
		L.SetGlobal(name, lua.LNil)
	}
	boundLuaStrings(L, budget)
	if full, ok := L.GetGlobal(lua.OsLibName).(*lua.LTable); ok {
		limited := L.NewTable()
		for _, name := range []string{"time", "date", "clock", "difftime"} {
			limited.RawSetString(name, full.RawGetString(name))
		}
		L.SetGlobal(lua.OsLibName, limited)
	}
	if ctx != nil {
		L.SetContext(ctx)
	}
	return L
}

// runLua runs a compiled chunk with the global `event` set to event, within
// the evaluation budget (the script stops when the time limit passes or ctx
// ends), and returns the value on top of the stack afterwards (the script's
// last return value, nil when it returns nothing), as Argo Events reads it.
func runLua(ctx context.Context, proto *lua.FunctionProto, event map[string]any) (lua.LValue, error) {
	e := startEval(ctx)
	defer e.done()
	budget := &evallimit.Budget{}
	L := newLuaState(e.context(), budget)
	defer L.Close()
	L.SetGlobal("event", toLua(L, event))
	L.Push(L.NewFunctionFromProto(proto))
	if err := L.PCall(0, lua.MultRet, nil); err != nil {
		if stopped := e.err(); stopped != nil {
			return nil, stopped
		}
		if budget.Refused != nil && strings.Contains(err.Error(), budget.Refused.Error()) {
			return nil, causedError{oneLineError{err}, budget.Refused}
		}
		return nil, oneLineError{err} // without the stack traceback
	}
	return L.Get(-1), nil
}

// causedError is a runtime's error message that unwraps to the error the
// runtime raised it for (gopher-lua keeps only the text of what a Go
// function raises).
type causedError struct {
	msg   error
	cause error
}

func (e causedError) Error() string { return e.msg.Error() }

func (e causedError) Unwrap() error { return e.cause }

// toLua converts decoded JSON to Lua: objects and arrays become tables,
// JSON null is left out (a missing key, as in Argo Events).
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.CreateTable(0, len(v))
		for k, e := range v {
			if e != nil {
				t.RawSetString(k, toLua(L, e))
			}
		}
		return t
	case []any:
		t := L.CreateTable(len(v), 0)
		for _, e := range v {
			if e != nil {
				t.Append(toLua(L, e))
			}
		}
		return t
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	default:
		return lua.LNil
	}
}

// fromLua converts a Lua value to JSON-encodable Go. A table is an array when
// it has a sequence part (1..n) or a metatable with a true __is_array field
// (the way a script returns an empty array), an object otherwise.
func fromLua(v lua.LValue) (any, error) {
	switch v := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(v), nil
	case lua.LString:
		return string(v), nil
	case lua.LNumber:
		return float64(v), nil
	case *lua.LTable:
		if n := v.MaxN(); n > 0 || isLuaArray(v) {
			out := make([]any, 0, n)
			for i := 1; i <= n; i++ {
				e, err := fromLua(v.RawGetInt(i))
				if err != nil {
					return nil, err
				}
				out = append(out, e)
			}
			return out, nil
		}
		out := map[string]any{}
		var errs []error
		v.ForEach(func(k, e lua.LValue) {
			g, err := fromLua(e)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k.String(), err))
				return
			}
			out[k.String()] = g
		})
		if len(errs) > 0 {
			sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
			return nil, errs[0]
		}
		return out, nil
	default:
		return nil, fmt.Errorf("a Lua %s cannot be converted to JSON", v.Type())
	}
}

func isLuaArray(t *lua.LTable) bool {
	mt, ok := t.Metatable.(*lua.LTable)
	return ok && lua.LVAsBool(mt.RawGetString("__is_array"))
}
