package sensor

import (
	"context"
	"testing"
	"time"
)

func TestScriptFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		script     string
		data       string
		wantPass   bool
		wantReason string
		wantErr    string
	}{
		// Argo Events' filter_script_test.go cases (argo-events.md §7 item 17).
		{name: "argo#17: returns true", script: `if event.a == "hello" then return true else return false end`,
			data: `{"a":"hello"}`, wantPass: true},
		{name: "argo: returns false", script: `if event.a == "hello" and event.b == "world" then return false else return true end`,
			data: `{"a":"hello","b":"world"}`, wantReason: "script filter: returned false, not true"},
		{name: "argo#17: undefined global table", script: `if a.a == "hello" then return true else return false end`,
			data: `{"a":"hello"}`, wantErr: "script filter: filter:1: attempt to index a non-table object(nil) with key 'a'"},

		{name: "nil data passes", script: `return false`, wantPass: true},
		{name: "data must be an object", script: `return true`, data: `[1]`, wantErr: "script filter: decoding event data"},
		{name: "a truthy value is not true", script: `return "hello"`, data: `{}`, wantReason: `script filter: returned "hello", not true`},
		{name: "no return value", script: `local x = 1`, data: `{}`, wantReason: "script filter: returned nil, not true"},
		{name: "nested values and arrays", data: `{"a":{"b":[1,"two",true,{"c":3},[4]]}}`, wantPass: true,
			script: `return event.a.b[1] == 1 and event.a.b[2] == "two" and event.a.b[3] and event.a.b[4].c == 3 and event.a.b[5][1] == 4`},
		{name: "null is a missing key", script: `return event.a == nil and event.b == 1`, data: `{"a":null,"b":1}`, wantPass: true},
		{name: "string library", script: `return string.upper(event.a) == "HI"`, data: `{"a":"hi"}`, wantPass: true},
		{name: "os.time is available", script: `return os.time() > 0`, data: `{}`, wantPass: true},
		{name: "os.execute is not", script: `os.execute("true") return true`, data: `{}`, wantErr: "script filter:"},
		{name: "io is not", script: `io.write("x") return true`, data: `{}`, wantErr: "script filter:"},
		{name: "dofile is not", script: `dofile("/etc/passwd") return true`, data: `{}`, wantErr: "script filter:"},
		{name: "runtime error", script: `error("boom")`, data: `{}`, wantErr: "script filter: filter:1: boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := newScriptFilter(tc.script)
			if err != nil {
				t.Fatalf("newScriptFilter: %v", err)
			}
			v := f.eval(context.Background(), &input{ev: testEvent(tc.data)})
			checkErr(t, v.err, tc.wantErr)
			if v.pass != tc.wantPass || v.reason != tc.wantReason {
				t.Errorf("eval = %+v, want pass %v reason %q", v, tc.wantPass, tc.wantReason)
			}
		})
	}
}

func TestScriptFilterSyntaxError(t *testing.T) {
	t.Parallel()
	// argo-events.md §7 item 17: a syntax error is reported when compiling.
	_, err := newScriptFilter(`if event.a == "hello" return false else return true end`)
	checkErr(t, err, "syntax error")
}

func TestScriptFilterStopsWithContext(t *testing.T) {
	t.Parallel()
	f, err := newScriptFilter(`while true do end`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	v := f.eval(ctx, &input{ev: testEvent(`{}`)})
	checkErr(t, v.err, "context deadline exceeded")
}
