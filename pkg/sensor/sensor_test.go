package sensor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
)

// eventAt is the time of the test events: 16:36:34 UTC.
var eventAt = time.Date(2024, 7, 15, 16, 36, 34, 0, time.UTC)

// testEvent returns a webhook event with the given JSON data (nil for none).
func testEvent(data string) *event.Event {
	ev := &event.Event{Context: event.Context{
		ID:              "1",
		Source:          "webhook-gateway",
		SpecVersion:     "1.0",
		Type:            "webhook",
		DataContentType: "application/json",
		Subject:         "example-1",
		Time:            eventAt,
	}}
	if data != "" {
		ev.Data = []byte(data)
	}
	return ev
}

// sensorWith returns a Sensor spec with the given dependencies.
func sensorWith(deps ...v1alpha1.EventDependency) *v1alpha1.Sensor {
	return &v1alpha1.Sensor{Spec: v1alpha1.SensorSpec{Dependencies: deps}}
}

// depWith returns a dependency "dep" on webhook-gateway/example-1 with filters.
func depWith(f *v1alpha1.EventDependencyFilter, op v1alpha1.LogicalOperator) v1alpha1.EventDependency {
	return v1alpha1.EventDependency{
		Name: "dep", EventSourceName: "webhook-gateway", EventName: "example-1",
		Filters: f, FiltersLogicalOperator: op,
	}
}

func mustNew(t testing.TB, s *v1alpha1.Sensor) *Sensor {
	t.Helper()
	out, err := New(s)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return out
}

// checkErr fails t unless err is one line containing want ("" = no error).
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("error = nil, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error = %q, want one containing %q", err, want)
	case err != nil && strings.Contains(err.Error(), "\n"):
		t.Fatalf("error %q spans several lines", err)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		deps []v1alpha1.EventDependency
		trig []v1alpha1.Trigger
		want []string
	}{
		{
			name: "duplicate dependency",
			deps: []v1alpha1.EventDependency{{Name: "a"}, {Name: "a"}},
			want: []string{`spec.dependencies[1].name: duplicate dependency name "a"`},
		},
		{
			name: "empty name",
			deps: []v1alpha1.EventDependency{{}},
			want: []string{"spec.dependencies[0].name: must not be empty"},
		},
		{
			name: "all problems are reported with their paths",
			deps: []v1alpha1.EventDependency{{
				Name:                   "a",
				FiltersLogicalOperator: "xor",
				Filters: &v1alpha1.EventDependencyFilter{
					Data: []v1alpha1.DataFilter{
						{Path: "k", Type: "string", Value: []string{"ok", "("}},
						{Path: "k", Type: "number", Value: []string{"x"}, Comparator: "=="},
					},
					Exprs:  []v1alpha1.ExprFilter{{Expr: `a ==`, Fields: []v1alpha1.PayloadField{{Path: "a", Name: "a"}}}},
					Time:   &v1alpha1.TimeFilter{Start: "9", Stop: "10:00:00", Timezone: "Mars/Base"},
					Script: "if then",
				},
				Transform: &v1alpha1.EventDependencyTransformer{JQ: ".a |||"},
			}},
			want: []string{
				`spec.dependencies[0].filtersLogicalOperator: unsupported logical operator "xor"`,
				"spec.dependencies[0].filters.data[0].value[1]: error parsing regexp",
				`spec.dependencies[0].filters.data[1].comparator: unsupported comparator "=="`,
				`spec.dependencies[0].filters.data[1].value[0]: strconv.ParseFloat: parsing "x"`,
				"spec.dependencies[0].filters.exprs[0].expr: unexpected token EOF",
				`spec.dependencies[0].filters.time.start: "9" is not hh:mm:ss`,
				`spec.dependencies[0].filters.time.timezone: invalid timezone "Mars/Base"`,
				"spec.dependencies[0].filters.script: ",
				"spec.dependencies[0].transform.jq: ",
			},
		},
		{
			name: "duplicate trigger",
			deps: []v1alpha1.EventDependency{{Name: "a"}},
			trig: []v1alpha1.Trigger{
				{Template: &v1alpha1.TriggerTemplate{Name: "t"}},
				{Template: &v1alpha1.TriggerTemplate{Name: "t"}},
			},
			want: []string{`spec.triggers[1].template.name: duplicate trigger name "t"`},
		},
		{
			name: "trigger parameters",
			deps: []v1alpha1.EventDependency{{Name: "a"}},
			trig: []v1alpha1.Trigger{{
				Template: &v1alpha1.TriggerTemplate{Name: "t"},
				Parameters: []v1alpha1.TriggerParameter{
					{Src: &v1alpha1.TriggerParameterSource{DependencyName: "a"}, Dest: "x", Operation: "replace"},
					{Dest: "y"},
				},
			}},
			want: []string{
				`spec.triggers[0].parameters[0].operation: unsupported operation "replace"`,
				"spec.triggers[0].parameters[1].src: must be set",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(&v1alpha1.Sensor{Spec: v1alpha1.SensorSpec{Dependencies: tc.deps, Triggers: tc.trig}})
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestDependencies(t *testing.T) {
	t.Parallel()
	s := mustNew(t, sensorWith(
		v1alpha1.EventDependency{Name: "a", EventSourceName: "webhook", EventName: "push"},
		v1alpha1.EventDependency{Name: "b", EventSourceName: "webhook", EventName: "pull"},
		v1alpha1.EventDependency{Name: "c", EventSourceName: "webhook", EventName: "push"},
		v1alpha1.EventDependency{Name: "d", EventSourceName: "calendar", EventName: "push"},
	))
	tests := []struct {
		source, subject string
		want            []string
	}{
		{"webhook", "push", []string{"a", "c"}},
		{"webhook", "pull", []string{"b"}},
		{"calendar", "push", []string{"d"}},
		{"calendar", "pull", nil},
		{"push", "webhook", nil},
	}
	for _, tc := range tests {
		t.Run(tc.source+"/"+tc.subject, func(t *testing.T) {
			t.Parallel()
			got := s.Dependencies(&event.Event{Context: event.Context{Source: tc.source, Subject: tc.subject}})
			if !slices.Equal(got, tc.want) {
				t.Errorf("Dependencies = %v, want %v", got, tc.want)
			}
		})
	}
	if got := s.DependencyNames(); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("DependencyNames = %v", got)
	}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	messageIs := &v1alpha1.EventDependencyFilter{Data: []v1alpha1.DataFilter{
		{Path: "body.message", Type: "string", Value: []string{"hello", "hey"}},
	}}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name       string
		dep        v1alpha1.EventDependency
		ctx        context.Context
		depName    string
		ev         *event.Event
		wantPass   bool
		wantReason string
		wantErr    string
		wantData   string
	}{
		{
			name: "no filters pass", dep: depWith(nil, ""),
			ev: testEvent(`{"k":"v"}`), wantPass: true, wantData: `{"k":"v"}`,
		},
		{
			name: "empty filters pass (and)", dep: depWith(&v1alpha1.EventDependencyFilter{}, ""),
			ev: testEvent(`{"k":"v"}`), wantPass: true,
		},
		{
			name: "empty filters do not pass (or)", dep: depWith(&v1alpha1.EventDependencyFilter{}, "or"),
			ev: testEvent(`{"k":"v"}`), wantReason: "no filter is defined to pass with filtersLogicalOperator or",
		},
		{
			name: "data filter passes", dep: depWith(messageIs, ""),
			ev: testEvent(`{"body":{"message":"hey you"}}`), wantPass: true,
		},
		{
			name: "data filter reason", dep: depWith(messageIs, ""),
			ev:         testEvent(`{"body":{"message":"goodbye"}}`),
			wantReason: `data filter body.message: "goodbye" does not match [hello hey]`,
		},
		{
			name: "missing path is an error", dep: depWith(messageIs, ""),
			ev:      testEvent(`{"body":{}}`),
			wantErr: "data filter body.message: path does not exist", wantReason: "data filter body.message: path does not exist",
		},
		{
			name: "or passes with errors as a warning",
			dep: depWith(&v1alpha1.EventDependencyFilter{
				Context: &v1alpha1.EventContext{Type: "webhook"},
				Data:    messageIs.Data,
			}, "or"),
			ev: testEvent(`{}`), wantPass: true,
			wantReason: "passed with filter errors: data filter body.message: path does not exist",
		},
		{
			name: "unknown dependency", dep: depWith(nil, ""), depName: "nope",
			ev: testEvent(`{}`), wantErr: `unknown dependency "nope"`, wantReason: `unknown dependency "nope"`,
		},
		{
			name: "nil event", dep: depWith(messageIs, ""),
			wantErr: "nil event", wantReason: "nil event",
		},
		{
			name: "cancelled context", dep: depWith(messageIs, ""), ctx: cancelled,
			ev: testEvent(`{}`), wantErr: "context canceled", wantReason: "context canceled",
		},
		{
			name: "filters see the transformed event",
			dep: v1alpha1.EventDependency{
				Name: "dep", EventSourceName: "webhook-gateway", EventName: "example-1",
				Transform: &v1alpha1.EventDependencyTransformer{JQ: `{body: {message: (.text | ascii_downcase)}}`},
				Filters:   messageIs,
			},
			ev: testEvent(`{"text":"HELLO"}`), wantPass: true, wantData: `{"body":{"message":"hello"}}`,
		},
		{
			name: "transform error",
			dep: v1alpha1.EventDependency{
				Name: "dep", EventSourceName: "webhook-gateway", EventName: "example-1",
				Transform: &v1alpha1.EventDependencyTransformer{JQ: `.text`},
			},
			ev:      testEvent(`{"text":"HELLO"}`),
			wantErr: "transform jq: output must be a JSON object, not a string", wantReason: "transform jq: output must be",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := mustNew(t, sensorWith(tc.dep))
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			name := tc.depName
			if name == "" {
				name = "dep"
			}
			out, pass, reason, err := s.Filter(ctx, name, tc.ev)
			checkErr(t, err, tc.wantErr)
			if pass != tc.wantPass {
				t.Errorf("pass = %v, want %v (reason %q)", pass, tc.wantPass, reason)
			}
			if !strings.Contains(reason, tc.wantReason) || (tc.wantReason == "") != (reason == "") {
				t.Errorf("reason = %q, want %q", reason, tc.wantReason)
			}
			if tc.wantData != "" && string(out.Data) != tc.wantData {
				t.Errorf("data = %s, want %s", out.Data, tc.wantData)
			}
		})
	}
}

func TestFilterUnknownDependencyIs(t *testing.T) {
	t.Parallel()
	s := mustNew(t, sensorWith(depWith(nil, "")))
	_, _, _, err := s.Filter(context.Background(), "x", testEvent(`{}`))
	if !errors.Is(err, ErrUnknownDependency) {
		t.Errorf("err = %v, want ErrUnknownDependency", err)
	}
}

func TestTriggerParameters(t *testing.T) {
	t.Parallel()
	s := mustNew(t, &v1alpha1.Sensor{Spec: v1alpha1.SensorSpec{
		Dependencies: []v1alpha1.EventDependency{depWith(nil, "")},
		Triggers: []v1alpha1.Trigger{
			{
				Template: &v1alpha1.TriggerTemplate{Name: "with"},
				Parameters: []v1alpha1.TriggerParameter{{
					Src:  &v1alpha1.TriggerParameterSource{DependencyName: "dep", DataKey: "k"},
					Dest: "http.url",
				}},
			},
			{Template: &v1alpha1.TriggerTemplate{Name: "without"}},
		},
	}})
	if s.TriggerParameters("without") != nil {
		t.Error("TriggerParameters(without) != nil")
	}
	doc, err := s.TriggerParameters("with").Apply([]byte(`{"http":{"url":"x"}}`),
		map[string]*event.Event{"dep": testEvent(`{"k":"http://a"}`)})
	checkErr(t, err, "")
	if string(doc) != `{"http":{"url":"http://a"}}` {
		t.Errorf("doc = %s", doc)
	}
}

func TestFilterConcurrent(t *testing.T) {
	t.Parallel()
	s := mustNew(t, sensorWith(v1alpha1.EventDependency{
		Name: "dep", EventSourceName: "webhook-gateway", EventName: "example-1",
		Transform: &v1alpha1.EventDependencyTransformer{Script: "event.n = event.n * 2 return event"},
		Filters: &v1alpha1.EventDependencyFilter{
			Data:   []v1alpha1.DataFilter{{Path: "n", Type: "number", Comparator: ">", Value: []string{"9"}, Template: "{{ .Input }}"}},
			Exprs:  []v1alpha1.ExprFilter{{Expr: `s =~ "^a"`, Fields: []v1alpha1.PayloadField{{Path: "s", Name: "s"}}}},
			Script: `return event.n % 2 == 0`,
		},
	}))
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				n := g*50 + i
				_, pass, reason, err := s.Filter(context.Background(), "dep", testEvent(fmt.Sprintf(`{"n":%d,"s":"abc"}`, n)))
				if want := n*2 > 9; pass != want || err != nil {
					errs <- fmt.Sprintf("n=%d: pass %v (want %v), reason %q, err %v", n, pass, want, reason, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
