package sensor

import (
	"context"
	"fmt"

	lua "github.com/yuin/gopher-lua"
	"knative.dev/pkg/apis"
)

// scriptFilter is a Lua script that sees the decoded event data as the global
// `event` and passes the event by returning true.
type scriptFilter struct {
	proto *lua.FunctionProto
}

// newScriptFilter compiles a filter script; a problem is at `script`.
func newScriptFilter(src string) (*scriptFilter, *apis.FieldError) {
	proto, err := compileLua("filter", src)
	if err != nil {
		return nil, luaProblem(err, "script")
	}
	return &scriptFilter{proto: proto}, nil
}

// eval runs the script in a fresh state within the evaluation budget; no
// data passes, as in Argo Events, and data that is not a JSON object, or is
// nested too deep (see checkData), is an error.
func (f *scriptFilter) eval(ctx context.Context, in *input) verdict {
	if len(in.ev.Data) == 0 {
		return verdict{pass: true}
	}
	data, err := decodeObject(in.ev.Data)
	if err != nil {
		return verdict{err: fmt.Errorf("script filter: decoding event data: %w", err)}
	}
	ret, err := runLua(ctx, f.proto, data)
	if err != nil {
		return verdict{err: fmt.Errorf("script filter: %w", err)}
	}
	if ret == lua.LTrue {
		return verdict{pass: true}
	}
	return verdict{reason: fmt.Sprintf("script filter: returned %s, not true", luaString(ret))}
}

// luaString shows a Lua value in a reason, strings quoted.
func luaString(v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return quoteValue(string(s))
	}
	return v.String()
}
