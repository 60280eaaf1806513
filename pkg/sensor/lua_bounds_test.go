package sensor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/flintevents/flint/pkg/evallimit"
)

// TestLuaBoundedStringsKeepResults runs each script with gopher-lua's own
// string and table libraries and with the bounded ones: below the limits the
// results are the same.
func TestLuaBoundedStringsKeepResults(t *testing.T) {
	t.Parallel()
	scripts := []string{
		`return string.rep("ab", 3)`,
		`return string.rep("ab", 0) .. "|" .. string.rep("ab", -1)`,
		`return string.gsub("hello world", "o", "0")`,
		`return string.gsub("hello world", "(o)", "[%1%1]")`,
		`return string.gsub("hello world", "o", "%0%%", 1)`,
		`return string.gsub("hello", "", "-")`,
		`return string.gsub("abc", "%w", "%1")`,
		`return string.gsub("a=1, b=2", "(%w+)=(%w+)", "%2=%1")`,
		`return string.gsub("$name is $age", "%$(%w+)", {name = "ann", age = 3})`,
		`return string.gsub("$name $none", "%$(%w+)", {name = "ann"})`,
		`return string.gsub("abc", "()b", function(p) return "<" .. p .. ">" end)`,
		`return string.gsub("one two", "(%w+)", function(w) if w == "two" then return false end return w:upper() end)`,
		`return string.gsub("x", "y", "z")`,
		`return string.gsub("a%b", "%%", "%x")`,
		`return string.format("%5.2f|%s|%d|%q", 3.14159, "s", 42, "q")`,
		`return table.concat({"a", "b", 3}, ", ")`,
		`return table.concat({"a", "b", "c"}, "-", 2, 3)`,
		`return table.concat({}, "-")`,
		`return 1 .. 2, "a" .. "b" .. 3 .. "c", 1.5 .. ""`,
		`local t = setmetatable({}, {__concat = function(a, b) return "mm" end}) return t .. "x", "x" .. t, "a" .. "b" .. t`,
		`local s = "" for i = 1, 5 do s = s .. i .. "," end return s`,
		`local function f(...) return ... end return f("a" .. "b", "c")`,
		`return ({("a" .. "b"):upper()})[1]`,
		`return "a" .. nil`,
		`return {} .. "a"`,
	}
	for _, src := range scripts {
		L := lua.NewState()
		fn, err := L.LoadString(src)
		if err != nil {
			t.Fatal(err)
		}
		want := runLuaWith(t, L, fn)
		proto, err := compileLua("<string>", src)
		if err != nil {
			t.Fatal(err)
		}
		L = newLuaState(context.Background(), &evallimit.Budget{})
		if got := runLuaWith(t, L, L.NewFunctionFromProto(proto)); got != want {
			t.Errorf("%s = %q, want %q as gopher-lua gives", src, got, want)
		}
	}
}

func runLuaWith(t *testing.T, L *lua.LState, fn *lua.LFunction) string {
	t.Helper()
	defer L.Close()
	L.Push(fn)
	if err := L.PCall(0, lua.MultRet, nil); err != nil {
		return "error: " + oneLineError{err}.Error()
	}
	var out []string
	for i := 1; i <= L.GetTop(); i++ {
		out = append(out, L.Get(i).String())
	}
	return strings.Join(out, " ")
}

// TestLuaOutputBudget checks the limits of the bounded Lua functions: one
// result, and the results of one run together.
func TestLuaOutputBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src, want string
	}{
		{`local s = string.rep("x", 1000000) return string.gsub(s, "x", "yyyyy")`,
			"t:1: string.gsub: output of at least 4194305 bytes exceeds the limit of 4194304 bytes"},
		{`local s = string.rep("x", 1000000) return string.gsub(s, "x", function() return "yyyyy" end)`,
			"t:1: string.gsub: output of at least 4194305 bytes exceeds the limit of 4194304 bytes"},
		{`local t = {} for i = 1, 5 do t[i] = string.rep("x", 1000000) end return table.concat(t)`,
			"t:1: table.concat: output of 5000000 bytes exceeds the limit of 4194304 bytes"},
		{`return string.format("%999999d%999999d%999999d%999999d%999999d", 1, 2, 3, 4, 5)`,
			"t:1: string.format: output of 5000195 bytes exceeds the limit of 4194304 bytes"},
		{`local s = string.rep("x", 4000000) return s .. s`,
			"t:1: concatenation: output of 8000000 bytes exceeds the limit of 4194304 bytes"},
		{`local s = string.rep("x", 1000000) return s .. s .. s .. s .. s`,
			"t:1: concatenation: output of 5000000 bytes exceeds the limit of 4194304 bytes"},
		{`for i = 1, 20 do local s = string.rep("x", 4000000) end`,
			"t:1: string.rep: output of 4000000 bytes exceeds the 3108864 bytes left of the limit of 67108864 bytes per evaluation"},
	}
	for _, tc := range tests {
		proto, err := compileLua("t", tc.src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = runLua(withEvalTimeout(context.Background(), time.Minute), proto, map[string]any{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %s", tc.src, err, tc.want)
		}
		if !errors.Is(err, ErrEvalOutput) {
			t.Errorf("%s: %v does not wrap ErrEvalOutput", tc.src, err)
		}
	}
}
