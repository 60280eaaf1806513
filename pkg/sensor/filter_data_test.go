package sensor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/jsonlimit"
)

func TestDataFilters(t *testing.T) {
	t.Parallel()
	str := func(path string, cmp v1alpha1.Comparator, values ...string) v1alpha1.DataFilter {
		return v1alpha1.DataFilter{Path: path, Type: v1alpha1.JSONTypeString, Comparator: cmp, Value: values}
	}
	num := func(path string, cmp v1alpha1.Comparator, values ...string) v1alpha1.DataFilter {
		return v1alpha1.DataFilter{Path: path, Type: v1alpha1.JSONTypeNumber, Comparator: cmp, Value: values}
	}
	boolean := func(path string, values ...string) v1alpha1.DataFilter {
		return v1alpha1.DataFilter{Path: path, Type: v1alpha1.JSONTypeBool, Value: values}
	}
	tmpl := func(f v1alpha1.DataFilter, text string) v1alpha1.DataFilter {
		f.Template = text
		return f
	}
	const nested = `{"k": true, "k1": {"k": 3.14, "k2": "hello, world"}}`
	tests := []struct {
		name       string
		filters    []v1alpha1.DataFilter
		op         v1alpha1.LogicalOperator
		data       string // "" = nil data
		wantPass   bool
		wantReason string
		wantErr    string
		errIs      error
	}{
		// Argo Events' filter_data_test.go cases (argo-events.md §7 items 1-12).
		{name: "argo: non-JSON data", filters: []v1alpha1.DataFilter{str("k", "", "v")}, data: "a",
			wantErr: "data filters: event data is not valid JSON", errIs: ErrDataNotJSON},
		{name: "argo#6: nil data passes", filters: []v1alpha1.DataFilter{str("k", "", "v")}, wantPass: true},
		{name: "argo#1: string", filters: []v1alpha1.DataFilter{str("k", "", "v")}, data: `{"k": "v"}`, wantPass: true},
		{name: "argo: string =", filters: []v1alpha1.DataFilter{str("k", "=", "v")}, data: `{"k": "v"}`, wantPass: true},
		{name: "argo#2: string != no match passes", filters: []v1alpha1.DataFilter{str("k", "!=", "b")}, data: `{"k": "v"}`, wantPass: true},
		{name: "argo#3: numeric string = number", filters: []v1alpha1.DataFilter{num("k", "", "1.0")}, data: `{"k": "1.0"}`, wantPass: true},
		{name: "argo#4: numeric string >", filters: []v1alpha1.DataFilter{num("k", ">", "1.0")}, data: `{"k": "2.0"}`, wantPass: true},
		{name: "argo#4: numeric string <= fails", filters: []v1alpha1.DataFilter{num("k", "<=", "1.0")}, data: `{"k": "2.0"}`,
			wantReason: "data filter k: 2 is not <= [1.0]"},
		{name: "argo: numeric string != fails", filters: []v1alpha1.DataFilter{num("k", "!=", "1.0")}, data: `{"k": "1.0"}`,
			wantReason: "data filter k: 1 equals 1.0 (comparator !=)"},
		{name: "argo: numeric string =", filters: []v1alpha1.DataFilter{num("k", "=", "5.0")}, data: `{"k": "5.0"}`, wantPass: true},
		{name: "argo: numeric string, no comparator", filters: []v1alpha1.DataFilter{num("k", "", "10.0")}, data: `{"k": "10.0"}`, wantPass: true},
		{name: "argo: number", filters: []v1alpha1.DataFilter{num("k", "", "1.0")}, data: `{"k": 1.0}`, wantPass: true},
		{name: "argo: number >", filters: []v1alpha1.DataFilter{num("k", ">", "1.0")}, data: `{"k": 2.0}`, wantPass: true},
		{name: "argo: number <= fails", filters: []v1alpha1.DataFilter{num("k", "<=", "1.0")}, data: `{"k": 2.0}`,
			wantReason: "data filter k: 2 is not <= [1.0]"},
		{name: "argo#5: number != fails", filters: []v1alpha1.DataFilter{num("k", "!=", "1.0")}, data: `{"k": 1.0}`,
			wantReason: "data filter k: 1 equals 1.0 (comparator !=)"},
		{name: "argo: number =", filters: []v1alpha1.DataFilter{num("k", "=", "5.0")}, data: `{"k": 5.0}`, wantPass: true},
		{name: "argo: number, no comparator", filters: []v1alpha1.DataFilter{num("k", "", "10.0")}, data: `{"k": 10.0}`, wantPass: true},
		{name: "argo#8: several filters, default operator fails", data: nested,
			filters: []v1alpha1.DataFilter{
				str("k", "", "v"), num("k1.k", "", "2.14"), str("k1.k2", "", "hello,world", "hello there"),
			},
			wantReason: `data filter k: "true" does not match [v]`},
		{name: "argo#8: several filters, and", op: "and", data: nested, wantPass: true,
			filters: []v1alpha1.DataFilter{
				boolean("k", "true"), num("k1.k", "", "3.14"), str("k1.k2", "", "hello,world", "hello, world", "hello there"),
			}},
		{name: "argo#9: several filters, or", op: "or", data: nested, wantPass: true,
			filters: []v1alpha1.DataFilter{
				boolean("k", "false"), num("k1.k", "", "3.14"), str("k1.k2", "", "hello,world", "hello there"),
			}},
		{name: "argo#10: multipath with query", data: `{"k": "v", "k1": {"a": [{"k2": "v2"}]}}`, wantPass: true,
			filters: []v1alpha1.DataFilter{str(`[k,k1.a.#(k2=="v2").k2]`, "=", `\bv\b.*\bv2\b`)}},
		{name: "argo: multipath with queries and an empty path", data: `{"k": "v", "k1": {"a": [{"k2": "v2"}, {"k2": "v3"}]}}`, wantPass: true,
			filters: []v1alpha1.DataFilter{str(`[k,k1.a.#(k2=="v2").k2,,k1.a.#(k2=="v3").k2]`, "", `(\bz\b.*\bv2\b)|(\bv\b.*(\bv2\b.*\bv3\b))`)}},
		{name: "argo#11: template b64dec | upper", data: `{"k": "aGVsbG8gd29ybGQ="}`, wantPass: true,
			filters: []v1alpha1.DataFilter{tmpl(str("k", "", "HELLO WORLD"), `{{ b64dec .Input | upper }}`)}},
		{name: "argo#12: template output compared as a number", data: `{"k": "My4xNA=="}`, wantPass: true,
			filters: []v1alpha1.DataFilter{tmpl(num("k", ">", "3.13"), `{{ b64dec .Input }}`)}},
		{name: "argo: template error text != value passes", data: `{"k": "aGVsbG8gd29ybGQ"}`, wantPass: true,
			filters: []v1alpha1.DataFilter{tmpl(str("k", "!=", "hello world"), `{{ b64dec .Input }}`)}},
		{name: "argo: template then regexp", data: `{"k": "aGVsbG8gd29ybGQ="}`, wantPass: true,
			filters: []v1alpha1.DataFilter{tmpl(str("k", "", "world$"), `{{ b64dec .Input }}`)}},
		{name: "argo: string != several values, value in list fails", data: `{"k": "id1"}`,
			filters:    []v1alpha1.DataFilter{str("k", "!=", "id1", "id2", "id3")},
			wantReason: `data filter k: "id1" matches id1 (comparator !=)`},
		{name: "argo: string != several values, value not in list", data: `{"k": "id_other"}`, wantPass: true,
			filters: []v1alpha1.DataFilter{str("k", "!=", "id1", "id2", "id3")}},
		{name: "argo: number != several values, value in list fails", data: `{"k": 2.0}`,
			filters:    []v1alpha1.DataFilter{num("k", "!=", "1.0", "2.0", "3.0")},
			wantReason: "data filter k: 2 equals 2.0 (comparator !=)"},
		{name: "argo: number != several values, value not in list", data: `{"k": 5.0}`, wantPass: true,
			filters: []v1alpha1.DataFilter{num("k", "!=", "1.0", "2.0", "3.0")}},

		// Strings are unanchored regular expressions; other comparators never match.
		{name: "string regexp is unanchored", filters: []v1alpha1.DataFilter{str("k", "", "abc")}, data: `{"k": "xabcx"}`, wantPass: true},
		{name: "string anchored regexp", filters: []v1alpha1.DataFilter{str("k", "", "^abc$")}, data: `{"k": "xabcx"}`,
			wantReason: `data filter k: "xabcx" does not match [^abc$]`},
		{name: "string any value matches", filters: []v1alpha1.DataFilter{str("body.message", "", "hello", "hey")},
			data: `{"body":{"message":"hey there"}}`, wantPass: true},
		{name: "string > never matches", filters: []v1alpha1.DataFilter{str("k", ">", "a")}, data: `{"k": "b"}`,
			wantReason: "data filter k: comparator > does not apply to type string"},
		{name: "string of a number", filters: []v1alpha1.DataFilter{str("k", "", "^12$")}, data: `{"k": 12}`, wantPass: true},
		{name: "string of an object is its JSON", filters: []v1alpha1.DataFilter{str("k", "", `"a":1`)}, data: `{"k": {"a":1}}`, wantPass: true},
		{name: "long values are shortened in reasons", filters: []v1alpha1.DataFilter{str("k", "", "z")},
			data:       `{"k": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`,
			wantReason: `data filter k: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"… does not match [z]`},

		// Numbers: every comparator, numeric strings coerced.
		{name: "number >=", filters: []v1alpha1.DataFilter{num("k", ">=", "2")}, data: `{"k": 2}`, wantPass: true},
		{name: "number <", filters: []v1alpha1.DataFilter{num("k", "<", "2")}, data: `{"k": 1.5}`, wantPass: true},
		{name: "number < fails", filters: []v1alpha1.DataFilter{num("k", "<", "1", "2")}, data: `{"k": 3}`,
			wantReason: "data filter k: 3 is not < [1 2]"},
		{name: "number = any value", filters: []v1alpha1.DataFilter{num("k", "=", "1", "3")}, data: `{"k": 3}`, wantPass: true},
		{name: "number = reason", filters: []v1alpha1.DataFilter{num("k", "", "1", "2")}, data: `{"k": 3}`,
			wantReason: "data filter k: 3 does not equal [1 2]"},
		{name: "non-numeric string is 0", filters: []v1alpha1.DataFilter{num("k", "", "0")}, data: `{"k": "abc"}`, wantPass: true},

		// Booleans: ParseBool values, equality only.
		{name: "bool true", filters: []v1alpha1.DataFilter{boolean("k", "TRUE")}, data: `{"k": true}`, wantPass: true},
		{name: "bool 1 and t", filters: []v1alpha1.DataFilter{boolean("k", "0", "t")}, data: `{"k": true}`, wantPass: true},
		{name: "bool from a string", filters: []v1alpha1.DataFilter{boolean("k", "false")}, data: `{"k": "false"}`, wantPass: true},
		{name: "bool mismatch", filters: []v1alpha1.DataFilter{boolean("k", "false")}, data: `{"k": true}`,
			wantReason: "data filter k: true does not equal [false]"},
		{name: "bool ignores the comparator", data: `{"k": true}`, wantPass: true,
			filters: []v1alpha1.DataFilter{{Path: "k", Type: "bool", Comparator: "!=", Value: []string{"true"}}}},

		// Errors and logical operators.
		{name: "missing path", filters: []v1alpha1.DataFilter{str("a.b", "", "v")}, data: `{"a": {}}`,
			wantErr: "data filter a.b: path does not exist", errIs: ErrPathNotFound},
		{name: "and: first mismatch wins over a later missing path", data: `{"k": "v"}`,
			filters:    []v1alpha1.DataFilter{str("k", "", "x"), str("z", "", "v")},
			wantReason: `data filter k: "v" does not match [x]`},
		{name: "and: missing path before a mismatch is an error", data: `{"k": "v"}`,
			filters: []v1alpha1.DataFilter{str("z", "", "v"), str("k", "", "x")},
			wantErr: "data filter z: path does not exist"},
		{name: "or: a match passes despite an earlier error", op: "or", data: `{"k": "v"}`, wantPass: true,
			filters: []v1alpha1.DataFilter{str("z", "", "v"), str("k", "", "v")}},
		{name: "or: errors are collected when nothing matches", op: "or", data: `{"k": "v"}`,
			filters: []v1alpha1.DataFilter{str("z", "", "v"), str("k", "", "x"), str("y", "", "v")},
			wantErr: "data filter z: path does not exist / data filter y: path does not exist", errIs: ErrPathNotFound},
		{name: "or: reasons are joined", op: "or", data: `{"k": "v", "n": 1}`,
			filters:    []v1alpha1.DataFilter{str("k", "", "x"), num("n", ">", "1")},
			wantReason: `data filter k: "v" does not match [x] / data filter n: 1 is not > [1]`},
		{name: "template with no value", data: `{"k": "v"}`,
			filters: []v1alpha1.DataFilter{tmpl(str("k", "", "v"), `{{ .Other }}`)},
			wantErr: "data filter k: template: template evaluated to an empty string or no value"},
		{name: "template rendering empty", data: `{"k": "v"}`,
			filters: []v1alpha1.DataFilter{tmpl(str("k", "", "v"), `{{ if eq .Input "x" }}x{{ end }}`)},
			wantErr: "template evaluated to an empty string or no value"},
		{name: "template execution error", data: `{"k": "v"}`,
			filters: []v1alpha1.DataFilter{tmpl(str("k", "", "v"), `{{ .Input.field }}`)},
			wantErr: "data filter k: template: template: data:1:9: executing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := newDataFilters(tc.filters, tc.op)
			if err != nil {
				t.Fatalf("newDataFilters: %v", err)
			}
			ev := testEvent(tc.data)
			v := d.eval(context.Background(), &input{ev: ev})
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

func TestNewDataFiltersErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		filter  v1alpha1.DataFilter
		op      v1alpha1.LogicalOperator
		wantErr string
	}{
		// argo-events.md §7 item 7: empty path, missing type, empty value list.
		{name: "argo#7: empty path", filter: v1alpha1.DataFilter{Type: "string", Value: []string{"v"}},
			wantErr: "data[0].path: missing field(s)"},
		{name: "argo#7: missing type", filter: v1alpha1.DataFilter{Path: "k", Value: []string{"v"}},
			wantErr: "data[0].type: missing field(s)"},
		{name: "argo#7: no values", filter: v1alpha1.DataFilter{Path: "k", Type: "string", Value: []string{}},
			wantErr: "data[0].value: missing field(s)"},
		{name: "unknown type", filter: v1alpha1.DataFilter{Path: "k", Type: "int", Value: []string{"1"}},
			wantErr: "data[0].type: invalid value: int; must be one of string, number, bool"},
		{name: "empty value", filter: v1alpha1.DataFilter{Path: "k", Type: "string", Value: []string{"a", ""}},
			wantErr: "data[0].value[1]: missing field(s)"},
		{name: "bad regexp", filter: v1alpha1.DataFilter{Path: "k", Type: "string", Value: []string{"[a"}},
			wantErr: "data[0].value[0]: invalid value: [a; error parsing regexp: missing closing ]: `[a`"},
		{name: "bad number", filter: v1alpha1.DataFilter{Path: "k", Type: "number", Value: []string{"1", "one"}},
			wantErr: "data[0].value[1]: invalid value: one; must be a number"},
		{name: "bad bool", filter: v1alpha1.DataFilter{Path: "k", Type: "bool", Value: []string{"yes"}},
			wantErr: "data[0].value[0]: invalid value: yes; must be true or false"},
		{name: "bad comparator", filter: v1alpha1.DataFilter{Path: "k", Type: "number", Value: []string{"1"}, Comparator: "=>"},
			wantErr: "data[0].comparator: invalid value: =>; must be one of >=, >, =, !=, <, <="},
		{name: "bad template", filter: v1alpha1.DataFilter{Path: "k", Type: "string", Value: []string{"v"}, Template: "{{ nope }}"},
			wantErr: `data[0].template: invalid value: {{ nope }}; template: data:1: function "nope" not defined`},
		{name: "env is not a template function", filter: v1alpha1.DataFilter{Path: "k", Type: "string", Value: []string{"v"}, Template: `{{ env "HOME" }}`},
			wantErr: `function "env" not defined`},
		{name: "bad operator", filter: v1alpha1.DataFilter{Path: "k", Type: "string", Value: []string{"v"}}, op: "nor",
			wantErr: "dataLogicalOperator: invalid value: nor; must be one of and, or"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := newDataFilters([]v1alpha1.DataFilter{tc.filter}, tc.op)
			checkErr(t, err, tc.wantErr)
		})
	}
}

func TestQuoteValue(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"short", `"short"`},
		{strings.Repeat("a", 80), `"` + strings.Repeat("a", 80) + `"`},
		{strings.Repeat("a", 81), `"` + strings.Repeat("a", 80) + `"…`},
		{strings.Repeat("a", 79) + "é", `"` + strings.Repeat("a", 79) + `"…`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			if got := quoteValue(tc.in); got != tc.want {
				t.Errorf("quoteValue = %s, want %s", got, tc.want)
			}
		})
	}
}

// BenchmarkDataFilter measures data filter evaluation through Sensor.Filter:
// three string, number and bool filters on webhook payloads of growing size.
func BenchmarkDataFilter(b *testing.B) {
	s := mustNew(b, sensorWith(depWith(&v1alpha1.EventDependencyFilter{Data: []v1alpha1.DataFilter{
		{Path: "body.action", Type: "string", Value: []string{"opened", "reopened"}},
		{Path: "body.pull_request.additions", Type: "number", Comparator: "<", Value: []string{"500"}},
		{Path: "body.pull_request.draft", Type: "bool", Value: []string{"false"}},
	}}, "")))
	for _, size := range []int{256, 4 << 10, 64 << 10} {
		data := benchPayload(size)
		ev := testEvent(data)
		b.Run(fmt.Sprintf("size=%d", len(data)), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, pass, reason, err := s.filter(context.Background(), "dep", ev); !pass || err != nil {
					b.Fatal(reason)
				}
			}
		})
	}
}

// benchPayload returns a webhook-style payload of about size bytes whose
// filtered fields come after the padding.
func benchPayload(size int) string {
	pad := strings.Repeat("x", max(0, size-200))
	return `{"header":{"Content-Type":["application/json"]},"body":{"padding":"` + pad +
		`","action":"opened","pull_request":{"number":7,"additions":120,"draft":false,"title":"Add sensor engine"}}}`
}

// TestDeepData feeds event data nested deeper than the limit to every kind
// of filter and transform and to parameters: each fails with the reason,
// after one linear check, instead of walking the nesting recursively.
func TestDeepData(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/hostile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s v1alpha1.Sensor
	if err := yaml.UnmarshalStrict(raw, &s); err != nil {
		t.Fatal(err)
	}
	sn := mustNewWith(t, &s, Options{})
	deep := strings.Repeat("[", 1<<19) + strings.Repeat("]", 1<<19) // 1 MiB
	within := strings.Repeat("[", 998) + strings.Repeat("]", 998)   // 1000 levels with header and body
	const tooDeep = "event data is nested more than 1000 levels deep: JSON nesting too deep"
	tests := []struct {
		dep, body, want string
	}{
		{"data", deep, "data filters: " + tooDeep},
		{"exprs", deep, "expr filters: " + tooDeep},
		{"script", deep, "script filter: decoding event data: " + tooDeep},
		{"jq", deep, "transform jq: decoding event data: " + tooDeep},
		{"lua-transform", deep, "transform script: decoding event data: " + tooDeep},
		{"data", within, "data filter body.a: path does not exist"},
		{"script", within, ""},
		{"jq", within, ""},
	}
	for _, tc := range tests {
		t.Run(tc.dep, func(t *testing.T) {
			t.Parallel()
			_, _, _, err := sn.filter(context.Background(), tc.dep, webhookEvent("1", `{}`, tc.body))
			if got := fmt.Sprint(err); tc.want == "" && err != nil || tc.want != "" && got != tc.want {
				t.Fatalf("filter error = %v, want %q", err, tc.want)
			}
			if tc.want != "" && !errors.Is(err, jsonlimit.ErrTooDeep) && strings.Contains(tc.want, tooDeep) {
				t.Errorf("error %v does not wrap jsonlimit.ErrTooDeep", err)
			}
		})
	}
	t.Run("parameters", func(t *testing.T) {
		t.Parallel()
		events := map[string]*event.Event{"d": webhookEvent("1", `{}`, deep)}
		for _, src := range []*v1alpha1.TriggerParameterSource{
			{DependencyName: "d", DataKey: "body"},
			{DependencyName: "d", DataTemplate: "{{ .Input.body }}"},
		} {
			_, _, _, err := resolveParameter(src, events)
			if !errors.Is(err, jsonlimit.ErrTooDeep) {
				t.Errorf("resolving %+v = %v, want %q", *src, err, tooDeep)
			}
		}
	})
}

// BenchmarkDeepData measures a data filter on a hostile event: a 1 MiB body
// of nested arrays. It reports CPU per event and the peak RSS.
func BenchmarkDeepData(b *testing.B) {
	d, ferr := newDependency(&v1alpha1.EventDependency{Name: "d", EventSourceName: "webhook", EventName: "example",
		Filters: &v1alpha1.EventDependencyFilter{Data: []v1alpha1.DataFilter{{Path: "body.a", Type: "string", Value: []string{"x"}}}}})
	if ferr != nil {
		b.Fatal(ferr)
	}
	body := strings.Repeat("[", 1<<19) + strings.Repeat("]", 1<<19)
	ev := webhookEvent("1", `{}`, body)
	b.SetBytes(int64(len(ev.Data)))
	b.ReportAllocs()
	start := benchCPU()
	for b.Loop() {
		_, _, _, _ = d.filter(context.Background(), ev)
	}
	b.ReportMetric(float64(benchCPU()-start)/float64(b.N)/float64(time.Millisecond), "cpu-ms/op")
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MiB")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.StackSys)/(1<<20), "stack-sys-MiB")
}

// benchCPU is the CPU time (user and system) the process has used.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
