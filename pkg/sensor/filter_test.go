package sensor

import (
	"context"
	"testing"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

func TestFilterSet(t *testing.T) {
	t.Parallel()
	str := func(path, value string) v1alpha1.DataFilter {
		return v1alpha1.DataFilter{Path: path, Type: "string", Value: []string{value}}
	}
	num := func(path, value string) v1alpha1.DataFilter {
		return v1alpha1.DataFilter{Path: path, Type: "number", Value: []string{value}}
	}
	expr := func(e, path, name string) v1alpha1.ExprFilter {
		return v1alpha1.ExprFilter{Expr: e, Fields: []v1alpha1.PayloadField{{Path: path, Name: name}}}
	}
	webhookCtx := &v1alpha1.EventContext{Type: "webhook", Source: "webhook-gateway"}
	const kv = `{"k": "v"}`
	const abc = `{ "a": "x", "b": 10, "c": { "d": "hello world", "e": false } }`
	tests := []struct {
		name       string
		filter     v1alpha1.EventDependencyFilter
		op         v1alpha1.LogicalOperator
		data       string
		emptyData  bool // data is []byte{} rather than nil
		wantPass   bool
		wantReason string
		wantErr    string
	}{
		// Argo Events' filter_test.go cases.
		{name: "argo: empty", op: "and", data: kv, wantPass: true},
		{name: "argo: passing", op: "and", data: kv, wantPass: true,
			filter: v1alpha1.EventDependencyFilter{Data: []v1alpha1.DataFilter{str("k", "v")}}},
		{name: "argo: not passing (missing path)", op: "and", data: kv,
			filter:  v1alpha1.EventDependencyFilter{Data: []v1alpha1.DataFilter{str("z", "v")}},
			wantErr: "data filter z: path does not exist"},
		{name: "argo: default operator, context true, data false", data: kv,
			filter:     v1alpha1.EventDependencyFilter{Context: webhookCtx, Data: []v1alpha1.DataFilter{str("k", "z")}},
			wantReason: `data filter k: "v" does not match [z]`},
		{name: "argo: default operator, context true, data error", data: kv,
			filter:  v1alpha1.EventDependencyFilter{Context: webhookCtx, Data: []v1alpha1.DataFilter{str("z", "v")}},
			wantErr: "data filter z: path does not exist"},
		{name: "argo: and, context false, data true", op: "and", data: kv,
			filter: v1alpha1.EventDependencyFilter{
				Context: &v1alpha1.EventContext{Type: "webhook", Source: "webhook-fake"},
				Data:    []v1alpha1.DataFilter{str("k", "v")},
			},
			wantReason: `context filter source: "webhook-gateway" is not "webhook-fake"`},
		{name: "argo: and, context true, data error", op: "and", data: kv,
			filter:  v1alpha1.EventDependencyFilter{Context: webhookCtx, Data: []v1alpha1.DataFilter{str("z", "v")}},
			wantErr: "data filter z: path does not exist"},
		// Argo's filter_test.go has this case pass with the error: it tests
		// filterEvent, but its sensor calls Filter, which turns any error
		// into "not passed", so the event is discarded.
		{name: "argo's code: or, context true, data error discards the event", op: "or", data: kv,
			filter:  v1alpha1.EventDependencyFilter{Context: webhookCtx, Data: []v1alpha1.DataFilter{str("z", "v")}},
			wantErr: "data filter z: path does not exist"},
		{name: "argo: (A && B) && (C && D)", data: abc, wantPass: true,
			filter: v1alpha1.EventDependencyFilter{
				Data:  []v1alpha1.DataFilter{str("a", "x"), num("b", "10")},
				Exprs: []v1alpha1.ExprFilter{expr(`d == "hello world"`, "c.d", "d"), expr(`e == false`, "c.e", "e")},
			}},
		{name: "argo: (A && B) || (C && D)", op: "or", data: abc, wantPass: true,
			filter: v1alpha1.EventDependencyFilter{
				DataLogicalOperator: "and", Data: []v1alpha1.DataFilter{str("a", "x"), num("b", "10")},
				ExprLogicalOperator: "and", Exprs: []v1alpha1.ExprFilter{expr(`d == "hello world"`, "c.d", "d"), expr(`e == true`, "c.e", "e")},
			}},
		{name: "argo: (A || B) && (C || D)", op: "and", data: abc, wantPass: true,
			filter: v1alpha1.EventDependencyFilter{
				DataLogicalOperator: "or", Data: []v1alpha1.DataFilter{str("a", "x"), num("b", "11")},
				ExprLogicalOperator: "or", Exprs: []v1alpha1.ExprFilter{expr(`d == "hello world"`, "c.d", "d"), expr(`e == true`, "c.e", "e")},
			}},
		{name: "argo: or with only some kinds, all false", op: "or", data: `{"a":{"b":"c","d":{"e":{"f":"g"}},"h":{"i":"j"}}}`,
			filter: v1alpha1.EventDependencyFilter{
				Exprs: []v1alpha1.ExprFilter{expr(`A == "not-valid"`, "a.b", "A")},
				Data: []v1alpha1.DataFilter{str("a.d.e.f", "not-valid"),
					{Path: "a.h.i", Type: "string", Value: []string{"not-valid", "not-valid-2"}}},
			},
			wantReason: `expr filter (A == "not-valid"): false / data filter a.d.e.f: "g" does not match [not-valid]`},
		{name: "argo: (A || B) || (C || D)", op: "or", data: abc, wantPass: true,
			filter: v1alpha1.EventDependencyFilter{
				DataLogicalOperator: "or", Data: []v1alpha1.DataFilter{str("a", "y"), num("b", "11")},
				ExprLogicalOperator: "or", Exprs: []v1alpha1.ExprFilter{expr(`d == "hello world"`, "c.d", "d"), expr(`e == false`, "c.e", "e")},
			}},
		{name: "argo: (A && B) || (C || D)", op: "or", data: abc, wantPass: true,
			filter: v1alpha1.EventDependencyFilter{
				DataLogicalOperator: "and", Data: []v1alpha1.DataFilter{str("a", "x"), num("b", "10")},
				ExprLogicalOperator: "or", Exprs: []v1alpha1.ExprFilter{expr(`d == "hello everybody"`, "c.d", "d"), expr(`e == true`, "c.e", "e")},
			}},
		{name: "argo: (A || B) || (C && D)", op: "or", data: abc, wantPass: true,
			filter: v1alpha1.EventDependencyFilter{
				DataLogicalOperator: "or", Data: []v1alpha1.DataFilter{str("a", "x"), num("b", "11")},
				ExprLogicalOperator: "and", Exprs: []v1alpha1.ExprFilter{expr(`d == "hello everybody"`, "c.d", "d"), expr(`e == false`, "c.e", "e")},
			}},
		{name: "argo: (A && B) && (C || D)", op: "and", data: abc,
			filter: v1alpha1.EventDependencyFilter{
				DataLogicalOperator: "and", Data: []v1alpha1.DataFilter{str("a", "x"), num("b", "11")},
				ExprLogicalOperator: "or", Exprs: []v1alpha1.ExprFilter{expr(`d == "hello everybody"`, "c.d", "d"), expr(`e == true`, "c.e", "e")},
			},
			wantReason: `expr filter (d == "hello everybody"): false / expr filter (e == true): false`},
		{name: "argo: (A || B) && (C && D) with a missing field", op: "and", data: abc,
			filter: v1alpha1.EventDependencyFilter{
				DataLogicalOperator: "or", Data: []v1alpha1.DataFilter{str("a", "x"), num("b", "10")},
				ExprLogicalOperator: "and", Exprs: []v1alpha1.ExprFilter{expr(`f == "hello world"`, "c.f", "f"), expr(`e == false`, "c.e", "e")},
			},
			wantErr: `expr filter (f == "hello world"): c.f: path does not exist`},

		// Order and kinds.
		{name: "and: the first failing kind is the reason", data: kv,
			filter: v1alpha1.EventDependencyFilter{
				Exprs:   []v1alpha1.ExprFilter{expr(`k == "x"`, "k", "k")},
				Context: &v1alpha1.EventContext{Type: "calendar"},
			},
			wantReason: `expr filter (k == "x"): false`},
		{name: "and: an error after a false kind still wins", data: kv,
			filter: v1alpha1.EventDependencyFilter{
				Exprs: []v1alpha1.ExprFilter{expr(`k == "x"`, "k", "k")},
				Data:  []v1alpha1.DataFilter{str("z", "v")},
			},
			wantErr: "data filter z: path does not exist"},
		{name: "time and script kinds", data: kv, wantPass: true,
			filter: v1alpha1.EventDependencyFilter{
				Time:   &v1alpha1.TimeFilter{Start: "16:00:00", Stop: "17:00:00"},
				Script: `return event.k == "v"`,
			}},
		{name: "time kind fails", data: kv,
			filter:     v1alpha1.EventDependencyFilter{Time: &v1alpha1.TimeFilter{Start: "09:00:00", Stop: "10:00:00"}},
			wantReason: "time filter: 16:36:34 UTC is not in [09:00:00, 10:00:00)"},
		{name: "or: an expr error fails even when the data kind passes", op: "or", data: kv,
			filter: v1alpha1.EventDependencyFilter{
				Exprs: []v1alpha1.ExprFilter{expr(`y == 1`, "y", "y")},
				Data:  []v1alpha1.DataFilter{str("k", "v")},
			},
			wantErr: "expr filter (y == 1): y: path does not exist"},
		{name: "or: a data error fails even when the script kind passes", op: "or", data: kv,
			filter: v1alpha1.EventDependencyFilter{
				Data:   []v1alpha1.DataFilter{str("z", "v")},
				Script: `return true`,
			},
			wantErr: "data filter z: path does not exist"},
		{name: "or: a script error fails even after a passing kind", op: "or", data: kv,
			filter: v1alpha1.EventDependencyFilter{
				Context: webhookCtx,
				Script:  `return nope.x`,
			},
			wantErr: "script filter: filter:1: attempt to index a non-table object(nil) with key 'x'"},
		{name: "or: errors of several kinds are joined", op: "or", data: kv,
			filter: v1alpha1.EventDependencyFilter{
				Exprs: []v1alpha1.ExprFilter{expr(`y == 1`, "y", "y")},
				Data:  []v1alpha1.DataFilter{str("z", "v")},
			},
			wantErr: "expr filter (y == 1): y: path does not exist / data filter z: path does not exist"},
		{name: "nil data passes data, expr and script kinds", op: "and", wantPass: true,
			filter: v1alpha1.EventDependencyFilter{
				Exprs:  []v1alpha1.ExprFilter{expr(`y == 1`, "y", "y")},
				Data:   []v1alpha1.DataFilter{str("z", "v")},
				Script: "return false",
			}},
		{name: "empty data is no data", op: "and", emptyData: true, wantPass: true,
			filter: v1alpha1.EventDependencyFilter{
				Exprs:  []v1alpha1.ExprFilter{expr(`y == 1`, "y", "y")},
				Data:   []v1alpha1.DataFilter{str("z", "v")},
				Script: "return false",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := testEvent(tc.data)
			if tc.emptyData {
				ev.Data = []byte{}
			}
			fs, err := newFilterSet(&tc.filter, tc.op)
			if err != nil {
				t.Fatalf("newFilterSet: %v", err)
			}
			v := fs.eval(context.Background(), ev)
			checkErr(t, v.err, tc.wantErr)
			if v.pass != tc.wantPass {
				t.Errorf("pass = %v, want %v (reason %q)", v.pass, tc.wantPass, v.reason)
			}
			if v.reason != tc.wantReason {
				t.Errorf("reason = %q\n want %q", v.reason, tc.wantReason)
			}
		})
	}
}

func TestNewFilterSetErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		filter  v1alpha1.EventDependencyFilter
		op      v1alpha1.LogicalOperator
		wantErr string
	}{
		{name: "argo: time filter error", filter: v1alpha1.EventDependencyFilter{Time: &v1alpha1.TimeFilter{Start: "09:09:0", Stop: "19:19:19"}},
			wantErr: "filters.time.start: invalid value: 09:09:0; must be hh:mm:ss"},
		{name: "argo: expr syntax error", filter: v1alpha1.EventDependencyFilter{Exprs: []v1alpha1.ExprFilter{
			{Expr: `e == false"`, Fields: []v1alpha1.PayloadField{{Path: "c.e", Name: "e"}}}}},
			wantErr: "filters.exprs[0].expr: invalid value: e == false\"; literal not terminated (1:12)"},
		{name: "bad operator", op: "any", wantErr: "filtersLogicalOperator: invalid value: any; must be one of and, or"},
		{name: "empty context filter", filter: v1alpha1.EventDependencyFilter{Context: &v1alpha1.EventContext{}},
			wantErr: "filters.context: expected at least one of type, subject, source, datacontenttype"},
		{name: "script syntax error", filter: v1alpha1.EventDependencyFilter{Script: "return ("},
			wantErr: "filters.script: invalid Lua script; filter at EOF: syntax error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := newFilterSet(&tc.filter, tc.op)
			checkErr(t, err, tc.wantErr)
		})
	}
}

// BenchmarkFilterKinds measures one dependency filter of each costly kind
// through Sensor.Filter on a small webhook payload.
func BenchmarkFilterKinds(b *testing.B) {
	const data = `{"body":{"action":"opened","number":7,"user":{"login":"octocat"}}}`
	kinds := []struct {
		name string
		dep  v1alpha1.EventDependency
	}{
		{"expr", depWith(&v1alpha1.EventDependencyFilter{Exprs: []v1alpha1.ExprFilter{{
			Expr:   `action =~ "^(opened|reopened)$" && number > 1`,
			Fields: []v1alpha1.PayloadField{{Path: "body.action", Name: "action"}, {Path: "body.number", Name: "number"}},
		}}}, "")},
		{"script", depWith(&v1alpha1.EventDependencyFilter{Script: `return event.body.action == "opened"`}, "")},
		{"jq-transform", v1alpha1.EventDependency{Name: "dep", EventSourceName: "webhook-gateway", EventName: "example-1",
			Transform: &v1alpha1.EventDependencyTransformer{JQ: `{action: .body.action}`}}},
	}
	ev := testEvent(data)
	for _, k := range kinds {
		s := mustNew(b, sensorWith(k.dep))
		b.Run(k.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, pass, reason, err := s.filter(context.Background(), "dep", ev); !pass || err != nil {
					b.Fatal(reason)
				}
			}
		})
	}
}
