package sensor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// FuzzDependency compiles a dependency from arbitrary user code (an
// expression filter, a data filter template and regular expression, a jq
// transform, a Lua filter script) and runs it on arbitrary event data under
// a short evaluation limit. It never panics; a compile problem is a field
// error with a path under the dependency; a run ends within the limit (plus
// slack) with a verdict or an error.
func FuzzDependency(f *testing.F) {
	for _, seed := range []struct {
		expr, tmpl, regexp, jq, script, data string
	}{
		{`a == "x" && n > 1`, `{{ .Input | upper }}`, `^X$`, `.`, `return event.body.a == "x"`, `{"body":{"a":"x","n":2}}`},
		{`a =~ "^x" || n IN (1, 2)`, `{{ b64dec .Input }}`, `.*`, `{body: .body}`, `return true`, `{"body":{"a":"eA==","n":1}}`},
		{`n % 2 == 0 ? true : false`, `{{ range $i := until 3 }}{{ $i }}{{ end }}`, `[`, `.body.a`, `return`, `{}`},
		{`(`, `{{`, `(?i)a`, `def f: f; f`, `while true do end`, `[1,2]`},
		{`all(list, {# > 0})`, `{{ repeat 3 .Input }}`, `a|b`, `[range(10)]`, `local s = string.rep("x", 10) return #s > 1`, `{"body":{"list":[1,2,3],"a":"b"}}`},
		{`a`, `{{ .Input.x.y }}`, `x`, `error("boom")`, `error("boom")`, `not json`},
		{`n > 1`, `{{ .Input }}`, `1`, `.`, `return event`, `{"body":` + strings.Repeat("[", 1100) + strings.Repeat("]", 1100) + `}`},
	} {
		f.Add(seed.expr, seed.tmpl, seed.regexp, seed.jq, seed.script, []byte(seed.data))
	}
	f.Fuzz(func(t *testing.T, expr, tmpl, re, jq, script string, data []byte) {
		d := &v1alpha1.EventDependency{Name: "d", EventSourceName: "webhook", EventName: "example",
			Transform: &v1alpha1.EventDependencyTransformer{JQ: jq},
			Filters: &v1alpha1.EventDependencyFilter{
				Exprs: []v1alpha1.ExprFilter{{Expr: expr, Fields: []v1alpha1.PayloadField{
					{Name: "a", Path: "body.a"}, {Name: "n", Path: "body.n"}, {Name: "list", Path: "body.list"}}}},
				Data:   []v1alpha1.DataFilter{{Path: "body.a", Type: v1alpha1.JSONTypeString, Value: []string{re}, Template: tmpl}},
				Script: script,
			},
			FiltersLogicalOperator: v1alpha1.OrLogicalOperator,
		}
		if jq == "" {
			d.Transform = nil
		}
		dep, ferr := newDependency(d)
		if ferr != nil {
			for _, e := range ferr.WrappedErrors() {
				if e.Message == "" || len(e.Paths) == 0 {
					t.Fatalf("a problem without a message or a path: %#v", e)
				}
			}
			return
		}
		ev := webhookEvent("1", `{}`, `{}`)
		ev.Data = data
		ctx := withEvalTimeout(context.Background(), 20*time.Millisecond)
		start := time.Now()
		_, pass, reason, err := dep.filter(ctx, ev)
		// Up to four evaluations (jq, template, expression, script), each
		// bounded; a generous slack for a loaded machine.
		if took := time.Since(start); took > 4*20*time.Millisecond+2*time.Second {
			t.Fatalf("filtering took %s", took)
		}
		if err != nil && pass || err == nil && !pass && reason == "" {
			t.Fatalf("verdict %t, reason %q, error %v", pass, reason, err)
		}
		var fe *apis.FieldError
		if errors.As(err, &fe) {
			t.Fatalf("an evaluation error is a field error: %v", err)
		}
	})
}

// FuzzRenderTemplate renders arbitrary templates over arbitrary input: never
// a panic, output within maxTemplateOutput, an empty result is errNoValue.
func FuzzRenderTemplate(f *testing.F) {
	for _, seed := range []struct{ text, input string }{
		{`{{ .Input }}`, "x"}, {`{{ .Input | b64enc }}`, "hello"}, {`{{ printf "%099999d" 1 }}`, ""},
		{`{{ range $i := until 100000 }}{{ repeat 100 "x" }}{{ end }}`, ""}, {`{{ "" }}`, "x"},
		{`{{ template "x" }}`, ""}, {`{{ define "x" }}{{ template "x" }}{{ end }}{{ template "x" }}`, ""},
		{`{{ seq 1 1000000000 }}`, ""}, {`{{ fail "no" }}`, ""},
	} {
		f.Add(seed.text, seed.input)
	}
	f.Fuzz(func(t *testing.T, text, input string) {
		tmpl, err := compileTemplate("t", text)
		if err != nil {
			return
		}
		ctx := withEvalTimeout(context.Background(), 20*time.Millisecond)
		out, err := renderTemplate(ctx, tmpl, input)
		if len(out) > maxTemplateOutput {
			t.Fatalf("rendered %d bytes", len(out))
		}
		if err == nil && (out == "" || out == "<no value>") {
			t.Fatalf("rendered %q without an error", out)
		}
	})
}
