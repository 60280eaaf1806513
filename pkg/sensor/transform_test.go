package sensor

import (
	"context"
	"testing"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

func TestTransform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		transform v1alpha1.EventDependencyTransformer
		data      string
		ct        string
		wantData  string // "" = nil data
		wantErr   string
	}{
		// Argo Events' transform_test.go cases (argo-events.md §7 items 18-19).
		{name: "argo#18: jq", transform: v1alpha1.EventDependencyTransformer{JQ: ".a += 1 | .b *= 2"},
			data: `{"a":1,"b":"2"}`, wantData: `{"a":2,"b":"22"}`},
		{name: "argo: lua", transform: v1alpha1.EventDependencyTransformer{Script: "event.c.d[1]=4\nreturn event"},
			data: `{"a":1,"b":"2","c":{"d":[3]}}`, wantData: `{"a":1,"b":"2","c":{"d":[4]}}`},
		{name: "argo: lua must return a table", transform: v1alpha1.EventDependencyTransformer{Script: `return "hello"`},
			data: `{"a":1}`, wantErr: "transform script: script did not return a table (got string)"},
		{name: "argo#19: lua empty array", transform: v1alpha1.EventDependencyTransformer{
			Script: "event.env = setmetatable({}, { __is_array = true })\nreturn event"},
			data: `{"env": 123}`, wantData: `{"env":[]}`},

		{name: "jq wins over script", transform: v1alpha1.EventDependencyTransformer{JQ: "{x: 1}", Script: "return {y = 2}"},
			data: `{}`, wantData: `{"x":1}`},
		{name: "jq output must be an object", transform: v1alpha1.EventDependencyTransformer{JQ: ".a"},
			data: `{"a":[1]}`, wantErr: "transform jq: output must be a JSON object, not an array"},
		{name: "jq first output is used", transform: v1alpha1.EventDependencyTransformer{JQ: "{n: .a[]}"},
			data: `{"a":[1,2]}`, wantData: `{"n":1}`},
		{name: "jq without output", transform: v1alpha1.EventDependencyTransformer{JQ: "empty"},
			data: `{}`, wantErr: "transform jq: no output"},
		{name: "jq runtime error", transform: v1alpha1.EventDependencyTransformer{JQ: `error("bad")`},
			data: `{}`, wantErr: "transform jq: error: bad"},
		{name: "jq data must be an object", transform: v1alpha1.EventDependencyTransformer{JQ: "."},
			data: `[1]`, wantErr: "transform jq: decoding event data"},
		{name: "jq on nil data does nothing", transform: v1alpha1.EventDependencyTransformer{JQ: "{x: 1}"}},
		{name: "jq sets the content type", transform: v1alpha1.EventDependencyTransformer{JQ: "."},
			data: `{"a":1}`, ct: "text/plain", wantData: `{"a":1}`},
		{name: "lua sequence becomes an array", transform: v1alpha1.EventDependencyTransformer{Script: "return {event.a, 2}"},
			data: `{"a":1}`, wantData: `[1,2]`},
		{name: "lua nested tables", transform: v1alpha1.EventDependencyTransformer{
			Script: `return {name = string.upper(event.name), tags = {"a", "b"}, meta = {ok = true}}`},
			data: `{"name":"x"}`, wantData: `{"meta":{"ok":true},"name":"X","tags":["a","b"]}`},
		{name: "lua function values cannot be encoded", transform: v1alpha1.EventDependencyTransformer{Script: "return {f = print}"},
			data: `{}`, wantErr: "transform script: f: a Lua function cannot be converted to JSON"},
		{name: "lua runtime error", transform: v1alpha1.EventDependencyTransformer{Script: "return nope.x"},
			data: `{}`, wantErr: "transform script: transform:1: attempt to index a non-table object(nil) with key 'x'"},
		{name: "lua on nil data does nothing", transform: v1alpha1.EventDependencyTransformer{Script: "return {}"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr, ferr := newTransformer(&tc.transform)
			if ferr != nil {
				t.Fatalf("newTransformer: %v", ferr)
			}
			ev := testEvent(tc.data)
			if tc.ct != "" {
				ev.Context.DataContentType = tc.ct
			}
			in := *ev
			out, err := tr.apply(context.Background(), ev)
			checkErr(t, err, tc.wantErr)
			if err != nil {
				return
			}
			if string(out.Data) != tc.wantData {
				t.Errorf("data = %s, want %s", out.Data, tc.wantData)
			}
			if tc.wantData != "" && out.Context.DataContentType != "application/json" {
				t.Errorf("datacontenttype = %q", out.Context.DataContentType)
			}
			if string(ev.Data) != string(in.Data) || ev.Context != in.Context {
				t.Error("the input event was modified")
			}
		})
	}
}

func TestNewTransformer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		transform *v1alpha1.EventDependencyTransformer
		wantNil   bool
		wantErr   string
	}{
		{name: "nil", wantNil: true},
		{name: "empty", transform: &v1alpha1.EventDependencyTransformer{}, wantErr: ": expected jq or script"},
		{name: "jq syntax error", transform: &v1alpha1.EventDependencyTransformer{JQ: ".a |"}, wantErr: "jq: invalid value: .a |; unexpected EOF"},
		{name: "jq unknown function", transform: &v1alpha1.EventDependencyTransformer{JQ: "nope(1)"}, wantErr: "jq: invalid value: nope(1); function not defined: nope/1"},
		{name: "lua syntax error", transform: &v1alpha1.EventDependencyTransformer{Script: "return {"}, wantErr: "script: invalid Lua script; transform at EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr, err := newTransformer(tc.transform)
			checkErr(t, err, tc.wantErr)
			if (tr == nil) != tc.wantNil && tc.wantErr == "" {
				t.Errorf("transformer = %v, want nil %v", tr, tc.wantNil)
			}
		})
	}
}
