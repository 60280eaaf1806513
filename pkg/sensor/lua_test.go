package sensor

import (
	"context"
	"encoding/json"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/flintevents/flint/pkg/evallimit"
)

func TestLuaRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"scalars", `{"s":"x","n":1.5,"b":true,"f":false}`, `{"b":true,"f":false,"n":1.5,"s":"x"}`},
		{"nested", `{"a":{"b":{"c":[1,2]}}}`, `{"a":{"b":{"c":[1,2]}}}`},
		{"null values are dropped", `{"a":null,"b":[1,null,2]}`, `{"b":[1,2]}`},
		{"arrays of arrays", `{"m":[[1,2],[3]]}`, `{"m":[[1,2],[3]]}`},
		{"empty object", `{"o":{}}`, `{"o":{}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var in map[string]any
			if err := json.Unmarshal([]byte(tc.in), &in); err != nil {
				t.Fatal(err)
			}
			L := newLuaState(context.Background(), &evallimit.Budget{})
			defer L.Close()
			out, err := fromLua(toLua(L, in))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(out)
			if string(got) != tc.want {
				t.Errorf("round trip = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestLuaStateLibraries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		global string
		want   lua.LValueType
	}{
		{"string", lua.LTTable},
		{"table", lua.LTTable},
		{"math", lua.LTTable},
		{"coroutine", lua.LTTable},
		{"os", lua.LTTable},
		{"setmetatable", lua.LTFunction},
		{"io", lua.LTNil},
		{"debug", lua.LTNil},
		{"package", lua.LTNil},
		{"channel", lua.LTNil},
		{"dofile", lua.LTNil},
		{"loadfile", lua.LTNil},
		{"require", lua.LTNil},
	}
	L := newLuaState(context.Background(), &evallimit.Budget{})
	defer L.Close()
	os := L.GetGlobal("os").(*lua.LTable)
	for _, tc := range tests {
		if got := L.GetGlobal(tc.global).Type(); got != tc.want {
			t.Errorf("%s is a %s, want %s", tc.global, got, tc.want)
		}
	}
	for name, want := range map[string]lua.LValueType{
		"time": lua.LTFunction, "date": lua.LTFunction, "clock": lua.LTFunction, "difftime": lua.LTFunction,
		"execute": lua.LTNil, "exit": lua.LTNil, "getenv": lua.LTNil, "remove": lua.LTNil, "rename": lua.LTNil,
	} {
		if got := os.RawGetString(name).Type(); got != want {
			t.Errorf("os.%s is a %s, want %s", name, got, want)
		}
	}
}

func TestRunLuaStatesAreFresh(t *testing.T) {
	t.Parallel()
	proto, err := compileLua("t", `counter = (counter or 0) + 1 return counter`)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, err := runLua(context.Background(), proto, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got != lua.LNumber(1) {
			t.Fatalf("counter = %v, want 1 on every run", got)
		}
	}
}
