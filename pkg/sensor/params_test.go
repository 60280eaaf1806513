package sensor

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/sjson"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
)

func strPtr(s string) *string { return &s }

// reviewEvent is the event of Argo Events' ResolveParamValue test.
const reviewData = `{"name": {"first": "fake", "last": "user"}, "reviews": 8, "rating": 4.5, "isActive" : true, "isVerified" : false, "countries": ["ca", "us", "mx"], "nothing": null}`

func TestResolveParameter(t *testing.T) {
	t.Parallel()
	ev := testEvent(reviewData)
	events := map[string]*event.Event{"dep": ev}
	wholeEvent := `{"context":{"id":"1","source":"webhook-gateway","specversion":"1.0","type":"webhook",` +
		`"datacontenttype":"application/json","subject":"example-1","time":"2024-07-15T16:36:34Z"},` +
		`"data":"` + base64.StdEncoding.EncodeToString([]byte(reviewData)) + `"}`
	src := func(s v1alpha1.TriggerParameterSource) *v1alpha1.TriggerParameterSource {
		if s.DependencyName == "" {
			s.DependencyName = "dep"
		}
		return &s
	}
	tests := []struct {
		name    string
		src     *v1alpha1.TriggerParameterSource
		events  map[string]*event.Event
		want    string
		wantRaw bool
		skipped bool
		wantErr string
	}{
		// Argo Events' ResolveParamValue cases (argo-events.md §7 item 20).
		{name: "argo#20: dataKey", src: src(v1alpha1.TriggerParameterSource{DataKey: "name.first"}), want: "fake"},
		{name: "argo#20: contextKey", src: src(v1alpha1.TriggerParameterSource{ContextKey: "subject"}), want: "example-1"},
		{name: "argo#20: whole event", src: src(v1alpha1.TriggerParameterSource{}), want: wholeEvent},
		{name: "argo#20: only a value", src: src(v1alpha1.TriggerParameterSource{Value: strPtr("hello")}), want: "hello"},
		{name: "argo#20: data key wins over context key",
			src: src(v1alpha1.TriggerParameterSource{ContextKey: "subject", DataKey: "name.first"}), want: "fake"},
		{name: "argo: dataTemplate", src: src(v1alpha1.TriggerParameterSource{DataTemplate: "{{ .Input.name.first }}"}), want: "fake"},
		{name: "argo#20: dataTemplate upper", src: src(v1alpha1.TriggerParameterSource{DataTemplate: "{{ upper .Input.name.first }}"}), want: "FAKE"},
		{name: "argo: contextTemplate", src: src(v1alpha1.TriggerParameterSource{ContextTemplate: "{{ .Input.subject }}"}), want: "example-1"},
		{name: "argo#20: contextTemplate replace",
			src: src(v1alpha1.TriggerParameterSource{ContextTemplate: `{{ .Input.subject | replace "-" "_" }}`}), want: "example_1"},
		{name: "argo: data template wins over context template",
			src: src(v1alpha1.TriggerParameterSource{ContextTemplate: "{{ .Input.subject }}", DataTemplate: "{{ .Input.name.first }}"}), want: "fake"},
		{name: "argo#20: failing template falls back to dataKey",
			src: src(v1alpha1.TriggerParameterSource{DataTemplate: "{{ .Input.name.non_exist }}", DataKey: "name.first"}), want: "fake"},
		{name: "a template that does not parse is a compile error",
			src:     src(v1alpha1.TriggerParameterSource{DataTemplate: "{{ no }}", DataKey: "name.first"}),
			wantErr: `src.dataTemplate: invalid value: {{ no }}; template: dataTemplate:1: function "no" not defined`},
		{name: "templates have no env",
			src:     src(v1alpha1.TriggerParameterSource{ContextTemplate: `{{ env "HOME" }}`}),
			wantErr: `src.contextTemplate: invalid value: {{ env "HOME" }}; template: contextTemplate:1: function "env" not defined`},
		{name: "argo: useRawData on a string", src: src(v1alpha1.TriggerParameterSource{DataKey: "name.first", UseRawData: true}), want: "fake"},
		{name: "argo#20: useRawData on an object",
			src: src(v1alpha1.TriggerParameterSource{DataKey: "name", UseRawData: true}), want: `{"first": "fake", "last": "user"}`, wantRaw: true},
		{name: "argo: useRawData on a list",
			src: src(v1alpha1.TriggerParameterSource{DataKey: "countries", UseRawData: true}), want: `["ca", "us", "mx"]`, wantRaw: true},
		{name: "argo: null", src: src(v1alpha1.TriggerParameterSource{DataKey: "nothing"}), want: "null", wantRaw: true},

		// Values and fallbacks.
		{name: "number", src: src(v1alpha1.TriggerParameterSource{DataKey: "rating"}), want: "4.5", wantRaw: true},
		{name: "boolean", src: src(v1alpha1.TriggerParameterSource{DataKey: "isVerified"}), want: "false", wantRaw: true},
		{name: "gjson query", src: src(v1alpha1.TriggerParameterSource{DataKey: `countries.#(=="us")`}), want: "us"},
		{name: "contextKey time is RFC 3339 in UTC", src: src(v1alpha1.TriggerParameterSource{ContextKey: "time"}), want: "2024-07-15T16:36:34Z"},
		{name: "a context template is ignored when a data key is set",
			src: src(v1alpha1.TriggerParameterSource{ContextTemplate: "{{ .Input.subject }}", DataKey: "name.last"}), want: "user"},
		{name: "missing key falls back to the value",
			src: src(v1alpha1.TriggerParameterSource{DataKey: "nope", Value: strPtr("default")}), want: "default"},
		{name: "template with no value falls back to the value",
			src: src(v1alpha1.TriggerParameterSource{DataTemplate: "{{ .Input.nope }}", Value: strPtr("default")}), want: "default"},
		{name: "missing key without a value is an error",
			src:     src(v1alpha1.TriggerParameterSource{DataKey: "nope"}),
			wantErr: `unable to resolve the parameter of dependency "dep": dataKey nope: path does not exist`},
		{name: "failing template and key are both reported",
			src:     src(v1alpha1.TriggerParameterSource{ContextTemplate: "{{ .Input.nope }}", ContextKey: "nope"}),
			wantErr: "contextTemplate: template evaluated to an empty string or no value / contextKey nope: path does not exist"},
		{name: "missing event with a value", src: src(v1alpha1.TriggerParameterSource{DependencyName: "other", DataKey: "x", Value: strPtr("v")}), want: "v"},
		{name: "missing event without a value is skipped", src: src(v1alpha1.TriggerParameterSource{DependencyName: "other", DataKey: "x"}), skipped: true},
		{name: "nil event is missing", src: src(v1alpha1.TriggerParameterSource{Value: strPtr("v")}),
			events: map[string]*event.Event{"dep": nil}, want: "v"},
		{name: "nil source", wantErr: "src: missing field(s)"},
		{name: "no dependency name", src: &v1alpha1.TriggerParameterSource{DataKey: "x"}, wantErr: "src.dependencyName: missing field(s)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs := tc.events
			if evs == nil {
				evs = events
			}
			got, raw, ok, err := resolveParameter(tc.src, evs)
			checkErr(t, err, tc.wantErr)
			if err != nil {
				return
			}
			if ok == tc.skipped {
				t.Fatalf("ok = %v, want %v", ok, !tc.skipped)
			}
			if got != tc.want || raw != tc.wantRaw {
				t.Errorf("ResolveParameter = %q raw %v, want %q raw %v", got, raw, tc.want, tc.wantRaw)
			}
		})
	}
}

func TestResolveParameterContentTypes(t *testing.T) {
	t.Parallel()
	const yamlData = "name: test\nage: 20\n"
	tests := []struct {
		name, ct, data string
		src            v1alpha1.TriggerParameterSource
		want, wantErr  string
	}{
		{name: "argo: yaml", ct: "application/yaml", data: yamlData, src: v1alpha1.TriggerParameterSource{DataKey: "@this"},
			want: `{"age":20,"name":"test"}`},
		{name: "yaml template", ct: "application/yaml", data: yamlData, src: v1alpha1.TriggerParameterSource{DataTemplate: "{{ .Input.name }}-{{ .Input.age }}"},
			want: "test-20"},
		{name: "json with a charset", ct: "application/json; charset=utf-8", data: `{"a":"b"}`, src: v1alpha1.TriggerParameterSource{DataKey: "a"}, want: "b"},
		{name: "no content type is json", ct: "", data: `{"a":"b"}`, src: v1alpha1.TriggerParameterSource{DataKey: "a"}, want: "b"},
		{name: "invalid json", ct: "application/json", data: `{"a":`, src: v1alpha1.TriggerParameterSource{DataKey: "a"},
			wantErr: `dependency "dep": event data is not valid JSON`},
		{name: "unsupported content type", ct: "text/plain", data: `a`, src: v1alpha1.TriggerParameterSource{DataKey: "a"},
			wantErr: `dependency "dep": unsupported event content type "text/plain"`},
		{name: "unsupported content type falls back to the value", ct: "text/plain", data: `a`,
			src: v1alpha1.TriggerParameterSource{DataKey: "a", Value: strPtr("v")}, want: "v"},
		{name: "invalid yaml", ct: "application/yaml", data: "a: [", src: v1alpha1.TriggerParameterSource{DataKey: "a"},
			wantErr: "converting YAML event data to JSON"},
		{name: "context keys do not decode the data", ct: "text/plain", data: `a`,
			src: v1alpha1.TriggerParameterSource{ContextKey: "datacontenttype"}, want: "text/plain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := testEvent(tc.data)
			ev.Context.DataContentType = tc.ct
			tc.src.DependencyName = "dep"
			got, _, _, err := resolveParameter(&tc.src, map[string]*event.Event{"dep": ev})
			checkErr(t, err, tc.wantErr)
			if got != tc.want {
				t.Errorf("value = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestResolveParameterWholeEventTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"fractional seconds are dropped, zone is UTC", time.Date(2024, 7, 15, 18, 36, 34, 999, time.FixedZone("CEST", 2*3600)),
			`"time":"2024-07-15T16:36:34Z"`},
		{"zero time is null", time.Time{}, `"time":null`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := testEvent("")
			ev.Context.Time = tc.at
			got, _, _, err := resolveParameter(&v1alpha1.TriggerParameterSource{DependencyName: "d"}, map[string]*event.Event{"d": ev})
			checkErr(t, err, "")
			if !bytes.Contains([]byte(got), []byte(tc.want)) || !bytes.HasSuffix([]byte(got), []byte(`"data":null}`)) {
				t.Errorf("whole event = %s, want %s and null data", got, tc.want)
			}
		})
	}
}

func TestApplyParameters(t *testing.T) {
	t.Parallel()
	events := map[string]*event.Event{
		"dep": testEvent(`{"name": {"first": "fake", "last": "user"}, "age": 100, "countries": ["ca", "us", "mx"] }`),
	}
	p := func(key, dest string, op v1alpha1.TriggerParameterOperation, raw bool) v1alpha1.TriggerParameter {
		return v1alpha1.TriggerParameter{
			Src:  &v1alpha1.TriggerParameterSource{DependencyName: "dep", DataKey: key, UseRawData: raw},
			Dest: dest, Operation: op,
		}
	}
	tests := []struct {
		name    string
		params  []v1alpha1.TriggerParameter
		doc     string
		want    string
		wantErr string
	}{
		// Argo Events' ApplyParams cases (argo-events.md §7 item 21).
		{name: "argo#21: no operation", params: []v1alpha1.TriggerParameter{p("name.first", "name", "", false)},
			doc: `{"name": "faker"}`, want: `{"name": "fake"}`},
		{name: "argo#21: prepend", params: []v1alpha1.TriggerParameter{p("name.first", "name", "prepend", false)},
			doc: `{"name": "faker"}`, want: `{"name": "fakefaker"}`},
		{name: "argo#21: append", params: []v1alpha1.TriggerParameter{p("name.first", "name", "append", false)},
			doc: `{"name": "faker"}`, want: `{"name": "fakerfake"}`},
		{name: "argo#21: overwrite", params: []v1alpha1.TriggerParameter{p("name.first", "name", "overwrite", false)},
			doc: `{"name": "faker"}`, want: `{"name": "fake"}`},
		{name: "argo#21: object without useRawData is a string", params: []v1alpha1.TriggerParameter{p("name", "name", "overwrite", false)},
			doc: `{"name": "faker"}`, want: `{"name": "{\"first\": \"fake\", \"last\": \"user\"}"}`},
		{name: "argo#21: object with useRawData", params: []v1alpha1.TriggerParameter{p("name", "name", "overwrite", true)},
			doc: `{"name": "faker"}`, want: `{"name": {"first": "fake", "last": "user"}}`},
		{name: "argo#21: raw data types, append forces a string",
			params: []v1alpha1.TriggerParameter{
				p("age", "age", "overwrite", true), p("age", "ageWithYears", "append", true), p("countries", "countries", "append", true),
			},
			doc:  `{"age": "this-gets-over-written", "ageWithYears": "Years: "}`,
			want: `{"age": 100, "ageWithYears": "Years: 100","countries":["ca", "us", "mx"]}`},

		{name: "trigger template dest", params: []v1alpha1.TriggerParameter{p("name.last", "http.url", "append", false)},
			doc: `{"name":"t","http":{"url":"https://x/"}}`, want: `{"name":"t","http":{"url":"https://x/user"}}`},
		{name: "-1 appends to an array", params: []v1alpha1.TriggerParameter{p("name.first", "args.-1", "", false)},
			doc: `{"args":["a"]}`, want: `{"args":["a","fake"]}`},
		{name: "dest created when missing", params: []v1alpha1.TriggerParameter{p("age", "spec.n", "", true)},
			doc: `{}`, want: `{"spec":{"n":100}}`},
		{name: "missing dependency is skipped",
			params: []v1alpha1.TriggerParameter{{Src: &v1alpha1.TriggerParameterSource{DependencyName: "other", DataKey: "x"}, Dest: "x"}},
			doc:    `{"x":1}`, want: `{"x":1}`},
		{name: "unresolved parameter", params: []v1alpha1.TriggerParameter{p("nope", "x", "", false)},
			doc: `{}`, wantErr: `parameters[0]: unable to resolve the parameter of dependency "dep": dataKey nope: path does not exist`},
		{name: "a parameter needs a dest", params: []v1alpha1.TriggerParameter{p("age", "", "", false)},
			doc: `{}`, wantErr: "parameters[0].dest: missing field(s)"},
		{name: "unsupported operation", params: []v1alpha1.TriggerParameter{p("age", "x", "merge", false)},
			doc: `{}`, wantErr: `parameters[0].operation: invalid value: merge; must be one of overwrite, append, prepend`},
		{name: "nil source", params: []v1alpha1.TriggerParameter{{Dest: "x"}},
			doc: `{}`, wantErr: "parameters[0].src: missing field(s)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc := []byte(tc.doc)
			got, err := applyParameters(doc, tc.params, events)
			checkErr(t, err, tc.wantErr)
			if string(got) != tc.want {
				t.Errorf("ApplyParameters = %s\n want %s", got, tc.want)
			}
			if string(doc) != tc.doc {
				t.Errorf("the input document was modified: %s", doc)
			}
		})
	}
}

func TestPayload(t *testing.T) {
	t.Parallel()
	events := map[string]*event.Event{
		"fake-dependency":         testEvent(`{"firstName": "fake"}`),
		"another-fake-dependency": testEvent(`{"lastName": "foo"}`),
		"use-event-data-type":     testEvent(`{"age": 100, "isActive": false, "countries": ["ca", "us", "mx"]}`),
		"null":                    testEvent(`{"nullable_key": null, "other_key": "value"}`),
	}
	p := func(dep, key, dest string, raw bool, value *string) v1alpha1.TriggerParameter {
		return v1alpha1.TriggerParameter{
			Src:  &v1alpha1.TriggerParameterSource{DependencyName: dep, DataKey: key, UseRawData: raw, Value: value},
			Dest: dest,
		}
	}
	typed := []v1alpha1.TriggerParameter{
		p("use-event-data-type", "age", "age", true, nil),
		p("use-event-data-type", "isActive", "isActive", true, nil),
		p("use-event-data-type", "age", "typelessAge", false, nil),
		p("use-event-data-type", "isActive", "typelessIsActive", false, nil),
	}
	tests := []struct {
		name    string
		params  []v1alpha1.TriggerParameter
		want    string // "" = nil payload
		wantErr string
	}{
		// Argo Events' ConstructPayload cases (argo-events.md §7 item 22).
		{name: "argo#22: keys and raw data types",
			params: append([]v1alpha1.TriggerParameter{
				p("fake-dependency", "firstName", "firstName", false, strPtr("faker")),
				p("another-fake-dependency", "lastName", "lastName", false, strPtr("bar")),
			}, typed...),
			want: `{"firstName":"fake","lastName":"foo","age":100,"isActive":false,"typelessAge":"100","typelessIsActive":"false"}`},
		{name: "argo#22: missing keys use the defaults",
			params: []v1alpha1.TriggerParameter{
				p("fake-dependency", "unknown", "firstName", false, strPtr("faker")),
				p("another-fake-dependency", "unknown", "lastName", false, strPtr("bar")),
			},
			want: `{"firstName":"faker","lastName":"bar"}`},
		{name: "argo: null is kept with useRawData",
			params: []v1alpha1.TriggerParameter{p("null", "nullable_key", "nullable_key", true, nil), p("null", "other_key", "other_key", false, nil)},
			want:   `{"nullable_key":null,"other_key":"value"}`},

		{name: "empty dest is the whole payload, at once",
			params: []v1alpha1.TriggerParameter{
				p("use-event-data-type", "countries", "x", true, nil),
				p("use-event-data-type", "countries", "", true, nil),
				p("use-event-data-type", "age", "y", true, nil),
			},
			want: `["ca", "us", "mx"]`},
		{name: "operations are ignored",
			params: []v1alpha1.TriggerParameter{{Src: &v1alpha1.TriggerParameterSource{DependencyName: "fake-dependency", DataKey: "firstName"},
				Dest: "a", Operation: "append"}},
			want: `{"a":"fake"}`},
		{name: "missing dependency is skipped",
			params: []v1alpha1.TriggerParameter{p("other", "x", "x", false, nil), p("fake-dependency", "firstName", "n", false, nil)},
			want:   `{"n":"fake"}`},
		{name: "nothing resolved is a nil payload", params: []v1alpha1.TriggerParameter{p("other", "x", "x", false, nil)}},
		{name: "whole event payload",
			params: []v1alpha1.TriggerParameter{{Src: &v1alpha1.TriggerParameterSource{DependencyName: "fake-dependency"}, Dest: ""}},
			want: `{"context":{"id":"1","source":"webhook-gateway","specversion":"1.0","type":"webhook","datacontenttype":"application/json",` +
				`"subject":"example-1","time":"2024-07-15T16:36:34Z"},"data":"eyJmaXJzdE5hbWUiOiAiZmFrZSJ9"}`},
		{name: "unresolved parameter", params: []v1alpha1.TriggerParameter{p("fake-dependency", "nope", "x", false, nil)},
			wantErr: `payload[0]: unable to resolve the parameter of dependency "fake-dependency"`},
		{name: "unsupported operation",
			params:  []v1alpha1.TriggerParameter{{Src: &v1alpha1.TriggerParameterSource{DependencyName: "x"}, Operation: "merge"}},
			wantErr: `payload[0].operation: invalid value: merge; must be one of overwrite, append, prepend`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := buildPayload(tc.params, events)
			checkErr(t, err, tc.wantErr)
			if string(got) != tc.want || (tc.want == "" && got != nil) {
				t.Errorf("Payload = %q\n want %q", got, tc.want)
			}
		})
	}
}

func TestCompiledParametersAreReusable(t *testing.T) {
	t.Parallel()
	list := []v1alpha1.TriggerParameter{{
		Src:  &v1alpha1.TriggerParameterSource{DependencyName: "d", DataTemplate: "{{ .Input.n }}"},
		Dest: "n",
	}}
	params, ferr := compileParameters(list, depsOf(list...), false)
	if ferr != nil {
		t.Fatal(ferr)
	}
	for i := range 3 {
		ev := testEvent(fmt.Sprintf(`{"n":%d}`, i))
		got, err := params.payload(context.Background(), map[string]*event.Event{"d": ev})
		checkErr(t, err, "")
		if want := fmt.Sprintf(`{"n":"%d"}`, i); string(got) != want {
			t.Errorf("Payload = %s, want %s", got, want)
		}
	}
}

// BenchmarkParameters measures parameter resolution: a trigger template
// parameterized from a webhook event by key, template and raw value.
func BenchmarkParameters(b *testing.B) {
	events := map[string]*event.Event{"dep": testEvent(
		`{"header":{"Content-Type":["application/json"],"X-Request-Id":["abc"]},` +
			`"body":{"repository":{"name":"flint","owner":"flintevents"},"ref":"refs/heads/main","commits":[{"id":"1"},{"id":"2"}]}}`)}
	list := []v1alpha1.TriggerParameter{
		{Src: &v1alpha1.TriggerParameterSource{DependencyName: "dep", DataKey: "body.repository.name"}, Dest: "http.payload.0.src.value"},
		{Src: &v1alpha1.TriggerParameterSource{DependencyName: "dep", DataTemplate: `{{ .Input.body.ref | trimPrefix "refs/heads/" }}`}, Dest: "http.url", Operation: "append"},
		{Src: &v1alpha1.TriggerParameterSource{DependencyName: "dep", DataKey: "body.commits", UseRawData: true}, Dest: "http.commits"},
		{Src: &v1alpha1.TriggerParameterSource{DependencyName: "dep", ContextKey: "id"}, Dest: "http.headers.X-Event-Id"},
	}
	params, ferr := compileParameters(list, depsOf(list...), true)
	if ferr != nil {
		b.Fatal(ferr)
	}
	doc := []byte(`{"name":"build","http":{"url":"https://ci.example.com/build/","method":"POST","payload":[{"src":{"dependencyName":"dep"},"dest":"repo"}]}}`)
	b.Run("apply", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := params.apply(context.Background(), doc, events); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("resolve-key", func(b *testing.B) {
		src := &v1alpha1.TriggerParameterSource{DependencyName: "dep", DataKey: "body.repository.owner"}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, err := resolveParameter(src, events); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestParameterTemplateBudget checks that a dataTemplate that never ends
// fails its parameter at the evaluation time limit, naming it.
func TestParameterTemplateBudget(t *testing.T) {
	t.Parallel()
	params, ferr := compileParameters([]v1alpha1.TriggerParameter{{Dest: "x", Src: &v1alpha1.TriggerParameterSource{
		DependencyName: "d", DataTemplate: `{{ range $i := until 100000 }}{{ range $j := until 100000 }}{{ end }}.{{ end }}`,
	}}}, map[string]bool{"d": true}, true)
	if ferr != nil {
		t.Fatal(ferr)
	}
	events := map[string]*event.Event{"d": webhookEvent("1", `{}`, `{}`)}
	start := time.Now()
	_, err := params.apply(withEvalTimeout(context.Background(), 100*time.Millisecond), []byte(`{}`), events)
	want := `[0]: unable to resolve the parameter of dependency "d": dataTemplate: evaluation time limit exceeded (100ms)`
	if err == nil || err.Error() != want || !errors.Is(err, ErrEvalTimeout) {
		t.Errorf("apply = %v, want %q", err, want)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %s, want about 100ms", took)
	}
}

// TestSetMatchesSJSON holds set, with its direct path for a first plain key,
// to what sjson writes for string and raw values at plain and nested paths.
func TestSetMatchesSJSON(t *testing.T) {
	t.Parallel()
	values := []string{"", "plain", "a<b>&c", `{"a":"b\\c"}`, "tab\tnl\n", "héllo ✓ \u2028", "\xff bad", strings.Repeat("x", 1500), `[1,2]`, `42`}
	for _, dest := range []string{"event", "_x", "a-b", "k9", "a.b", "0", "9a", "a b", "a*", "x.y.z"} {
		for _, v := range values {
			for _, raw := range []bool{false, true} {
				for _, doc := range [][]byte{nil, []byte(`{"first":1}`)} {
					var want []byte
					var err error
					if raw {
						want, err = sjson.SetRawBytes(doc, dest, []byte(v))
					} else {
						want, err = sjson.SetBytes(doc, dest, v)
					}
					if err != nil {
						continue // sjson refuses the path: set reports its error
					}
					got, err := set(doc, dest, resolved{text: v, raw: true}, raw)
					if err != nil {
						t.Fatalf("set(%s, %q, %q, raw %t): %v", doc, dest, v, raw, err)
					}
					if string(got) != string(want) {
						t.Errorf("set(%s, %q, %q, raw %t) = %s, sjson writes %s", doc, dest, v, raw, got, want)
					}
				}
			}
		}
	}
}
