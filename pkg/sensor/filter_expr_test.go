package sensor

import (
	"context"
	"errors"
	"testing"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

func TestExprFilters(t *testing.T) {
	t.Parallel()
	f := func(expr string, fields ...string) v1alpha1.ExprFilter {
		e := v1alpha1.ExprFilter{Expr: expr}
		for i := 0; i < len(fields); i += 2 {
			e.Fields = append(e.Fields, v1alpha1.PayloadField{Path: fields[i], Name: fields[i+1]})
		}
		return e
	}
	tests := []struct {
		name       string
		filters    []v1alpha1.ExprFilter
		op         v1alpha1.LogicalOperator
		data       string
		wantPass   bool
		wantReason string
		wantErr    string
		errIs      error
	}{
		// Argo Events' filter_expr_test.go cases (argo-events.md §7 items 13-14).
		{name: "argo: non-JSON data", filters: []v1alpha1.ExprFilter{f(`a == "b"`, "a", "a")}, data: "a",
			wantErr: "expr filters: event data is not valid JSON", errIs: ErrDataNotJSON},
		{name: "argo: nil data passes", filters: []v1alpha1.ExprFilter{f(`a == "b"`, "a", "a")}, wantPass: true},
		{name: "argo#13: string equal", filters: []v1alpha1.ExprFilter{f(`a == "b"`, "a", "a")}, data: `{"a": "b"}`, wantPass: true},
		{name: "argo: string different", filters: []v1alpha1.ExprFilter{f(`a != "b"`, "a", "a")}, data: `{"a": "c"}`, wantPass: true},
		{name: "argo: nested string equal fails", filters: []v1alpha1.ExprFilter{f(`b == "b"`, "a.b", "b")}, data: `{"a": {"b": "c"}}`,
			wantReason: `expr filter (b == "b"): false`},
		{name: "argo: number equal", filters: []v1alpha1.ExprFilter{f(`b == 2`, "a.b", "b")}, data: `{"a": {"b": 2}}`, wantPass: true},
		{name: "argo#13: number less than fails", filters: []v1alpha1.ExprFilter{f(`b < 1`, "a.b", "b")}, data: `{"a": {"b": 2}}`,
			wantReason: "expr filter (b < 1): false"},
		{name: "argo#13: =~", filters: []v1alpha1.ExprFilter{f(`b =~ "start"`, "a.b", "b")}, data: `{"a": {"b": "start long string"}}`, wantPass: true},
		{name: "govaluate keyword IN", filters: []v1alpha1.ExprFilter{f(`b IN ("x", "start")`, "a.b", "b")}, data: `{"a": {"b": "start"}}`, wantPass: true},
		{name: "govaluate keyword IN, no match", filters: []v1alpha1.ExprFilter{f(`b IN ("x")`, "a.b", "b")}, data: `{"a": {"b": "start"}}`,
			wantReason: `expr filter (b IN ("x")): false`},
		{name: "argo#13: !~", filters: []v1alpha1.ExprFilter{f(`b !~ "start"`, "a.b", "b")}, data: `{"a": {"b": "long string"}}`, wantPass: true},
		{name: "argo: several, default operator", data: `{"a": {"b": "x", "d": "y"}}`, wantPass: true,
			filters: []v1alpha1.ExprFilter{f(`b == "x"`, "a.b", "b"), f(`d == "y"`, "a.d", "d")}},
		{name: "argo#14: several, and", op: "and", data: `{"a": {"b": "x", "d": "y"}}`,
			filters:    []v1alpha1.ExprFilter{f(`b == "x"`, "a.b", "b"), f(`d == "d"`, "a.d", "d")},
			wantReason: `expr filter (d == "d"): false`},
		{name: "argo#14: several, or", op: "or", data: `{"a": {"b": "x", "d": "y"}}`, wantPass: true,
			filters: []v1alpha1.ExprFilter{f(`b == "x"`, "a.b", "b"), f(`d == "d"`, "a.d", "d")}},
		{name: "argo#14: or, a missing field and a false one", op: "or", data: `{"a": {"b": "x", "d": "y"}}`,
			filters: []v1alpha1.ExprFilter{f(`b == "b"`, "a.b", "b"), f(`c == "c"`, "a.c", "c")},
			wantErr: `expr filter (c == "c"): a.c: path does not exist`, errIs: ErrPathNotFound},
		{name: "argo#14: or, true after a missing field", op: "or", data: `{"a": {"b": "x", "d": {"e": true}}}`, wantPass: true,
			filters: []v1alpha1.ExprFilter{f(`b == "x"`, "a.b", "b"), f(`c == "c"`, "a.c", "c"), f(`e == true`, "a.d.e", "e")}},
		{name: "argo: and, false before a missing field", data: `{"a": {"b": "x", "d": "y"}}`,
			filters:    []v1alpha1.ExprFilter{f(`b == "b"`, "a.b", "b"), f(`c == "c"`, "a.c", "c")},
			wantReason: `expr filter (b == "b"): false`},
		{name: "argo: default operator, missing field", data: `{"a": {"b": "x", "d": "y"}}`,
			filters: []v1alpha1.ExprFilter{f(`b == "x"`, "a.b", "b"), f(`c == "c"`, "a.c", "c")},
			wantErr: `expr filter (c == "c"): a.c: path does not exist`},
		{name: "argo: and, missing field", op: "and", data: `{"a": {"b": "x", "d": {"e": true}}}`,
			filters: []v1alpha1.ExprFilter{f(`b == "x"`, "a.b", "b"), f(`c == "c"`, "a.c", "c"), f(`e == true`, "a.d.e", "e")},
			wantErr: `expr filter (c == "c"): a.c: path does not exist`},
		{name: "argo: && inside, missing field", data: `{"a": {"b": "x", "c": {"d": true}}}`,
			filters: []v1alpha1.ExprFilter{f(`b != "b" && d == true`, "a.b", "b", "a.d", "d")},
			wantErr: `expr filter (b != "b" && d == true): a.d: path does not exist`},
		{name: "argo: && inside", op: "or", data: `{"a": {"b": "x", "c": {"d": true}}}`, wantPass: true,
			filters: []v1alpha1.ExprFilter{f(`b != "b" && d == true`, "a.b", "b", "a.c.d", "d")}},
		{name: "argo: || inside", data: `{"a": {"b": "b", "c": {"d": false}}}`, wantPass: true,
			filters: []v1alpha1.ExprFilter{f(`b == "b" || d == true`, "a.b", "b", "a.c.d", "d")}},
		{name: "argo: unbound name after a true ||", data: `{"a": {"b": "b", "c": {"d": false}, "e": 2}}`, wantPass: true,
			filters: []v1alpha1.ExprFilter{f(`b == "b" || (d == true && e == 2)`, "a.b", "b", "a.c.d", "d")}},

		// govaluate operators and values.
		{name: "regexp is unanchored", filters: []v1alpha1.ExprFilter{f(`b =~ "art"`, "b", "b")}, data: `{"b": "start"}`, wantPass: true},
		{name: "!~ fails on a match", filters: []v1alpha1.ExprFilter{f(`b !~ "^st"`, "b", "b")}, data: `{"b": "start"}`,
			wantReason: `expr filter (b !~ "^st"): false`},
		{name: "=~ in a compound expression", data: `{"b": "start", "n": 3}`, wantPass: true,
			filters: []v1alpha1.ExprFilter{f(`(b =~ "^s" && n > 2) || n < 0`, "b", "b", "n", "n")}},
		{name: "operators inside strings are kept", filters: []v1alpha1.ExprFilter{f(`b == "=~ (x)"`, "b", "b")}, data: `{"b": "=~ (x)"}`, wantPass: true},
		{name: "single-quoted strings", filters: []v1alpha1.ExprFilter{f(`b == 'x'`, "b", "b")}, data: `{"b": "x"}`, wantPass: true},
		{name: "in with a govaluate list", filters: []v1alpha1.ExprFilter{f(`b in ("x", "y")`, "b", "b")}, data: `{"b": "y"}`, wantPass: true},
		{name: "modulo on whole numbers", filters: []v1alpha1.ExprFilter{f(`n % 2 == 0`, "n", "n")}, data: `{"n": 4}`, wantPass: true},
		{name: "number compared with a float", filters: []v1alpha1.ExprFilter{f(`n > 1.5`, "n", "n")}, data: `{"n": 2}`, wantPass: true},
		{name: "arithmetic", filters: []v1alpha1.ExprFilter{f(`(w / (h * h)) > 20`, "w", "w", "h", "h")}, data: `{"w": 80, "h": 1.8}`, wantPass: true},
		{name: "field named like a builtin", filters: []v1alpha1.ExprFilter{f(`type == "push" && count > 1`, "t", "type", "c", "count")},
			data: `{"t": "push", "c": 2}`, wantPass: true},
		{name: "booleans", filters: []v1alpha1.ExprFilter{f(`!draft && merged == true`, "d", "draft", "m", "merged")},
			data: `{"d": false, "m": true}`, wantPass: true},
		{name: "null", filters: []v1alpha1.ExprFilter{f(`v == nil`, "v", "v")}, data: `{"v": null}`, wantPass: true},
		{name: "non-boolean result does not pass", filters: []v1alpha1.ExprFilter{f(`b`, "b", "b")}, data: `{"b": "x"}`,
			wantReason: "expr filter (b): result x is not a boolean"},
		{name: "runtime error", filters: []v1alpha1.ExprFilter{f(`b > 1`, "b", "b")}, data: `{"b": "x"}`,
			wantErr: "expr filter (b > 1): invalid operation: string > int (1:3)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := newExprFilters(tc.filters, tc.op)
			if err != nil {
				t.Fatalf("newExprFilters: %v", err)
			}
			v := e.eval(context.Background(), &input{ev: testEvent(tc.data)})
			checkErr(t, v.err, tc.wantErr)
			if tc.errIs != nil && !errors.Is(v.err, tc.errIs) {
				t.Errorf("error %v is not %v", v.err, tc.errIs)
			}
			if v.pass != tc.wantPass {
				t.Errorf("pass = %v, want %v (reason %q)", v.pass, tc.wantPass, v.reason)
			}
			if v.reason != tc.wantReason {
				t.Errorf("reason = %q\n want %q", v.reason, tc.wantReason)
			}
		})
	}
}

func TestNewExprFiltersErrors(t *testing.T) {
	t.Parallel()
	field := []v1alpha1.PayloadField{{Path: "a", Name: "a"}}
	tests := []struct {
		name    string
		filter  v1alpha1.ExprFilter
		op      v1alpha1.LogicalOperator
		wantErr string
	}{
		{name: "argo: syntax error", filter: v1alpha1.ExprFilter{Expr: `e == false"`, Fields: field},
			wantErr: "exprs[0].expr: invalid value: e == false\"; literal not terminated (1:12)"},
		{name: "empty expr", filter: v1alpha1.ExprFilter{Fields: field}, wantErr: "exprs[0].expr: missing field(s)"},
		{name: "no fields", filter: v1alpha1.ExprFilter{Expr: "a"}, wantErr: "exprs[0].fields: missing field(s)"},
		{name: "field without path", filter: v1alpha1.ExprFilter{Expr: "a", Fields: []v1alpha1.PayloadField{{Name: "a"}}},
			wantErr: "exprs[0].fields[0].path: missing field(s)"},
		{name: "field without name", filter: v1alpha1.ExprFilter{Expr: "a", Fields: []v1alpha1.PayloadField{{Path: "a"}}},
			wantErr: "exprs[0].fields[0].name: missing field(s)"},
		{name: "bad operator", filter: v1alpha1.ExprFilter{Expr: "a", Fields: field}, op: "xor",
			wantErr: "exprLogicalOperator: invalid value: xor; must be one of and, or"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := newExprFilters([]v1alpha1.ExprFilter{tc.filter}, tc.op)
			checkErr(t, err, tc.wantErr)
		})
	}
}

func TestTranslateGovaluate(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`a == "b"`, `a == "b"`},
		{`b =~ "start"`, `b  matches  "start"`},
		{`b !~ "start"`, `b  not matches  "start"`},
		{`b=~'x'&&c!~'y'`, `b matches 'x'&&c not matches 'y'`},
		{`b == "=~ !~ (\" in ("`, `b == "=~ !~ (\" in ("`},
		{`x in ("a", "b") && (y in (1, 2))`, `x in ["a", "b"] && (y in [1, 2])`},
		{`min(a, b) > 1 && join(x) == ""`, `min(a, b) > 1 && join(x) == ""`},
		{`(a || b) && !c`, `(a || b) && !c`},
		{`x IN ("a", "b")`, `x in ["a", "b"]`},
		{`index In (1) && inner == "IN"`, `index in [1] && inner == "IN"`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			if got := translateGovaluate(tc.in); got != tc.want {
				t.Errorf("translateGovaluate(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
