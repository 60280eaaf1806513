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

	corev1 "k8s.io/api/core/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/triggers"
	_ "github.com/flintevents/flint/triggers/builtin"
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

// sensorWith returns a Sensor spec with the given dependencies and one log trigger.
func sensorWith(deps ...v1alpha1.EventDependency) *v1alpha1.Sensor {
	return &v1alpha1.Sensor{Spec: v1alpha1.SensorSpec{Dependencies: deps,
		Triggers: []v1alpha1.Trigger{{Template: &v1alpha1.TriggerTemplate{Name: "log", Log: &v1alpha1.LogTrigger{}}}}}}
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
	return mustNewWith(t, s, Options{})
}

// mustNewWith compiles s with opts, closing it when the test ends.
func mustNewWith(t testing.TB, s *v1alpha1.Sensor, opts Options) *Sensor {
	t.Helper()
	out, err := New(s, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = out.Close() })
	return out
}

// filter runs the named dependency's transform and filters on ev.
func (s *Sensor) filter(ctx context.Context, name string, ev *event.Event) (*event.Event, bool, string, error) {
	for _, d := range s.deps {
		if d.name == name {
			return d.filter(ctx, ev)
		}
	}
	return ev, false, "no dependency " + name, errors.New("no dependency " + name)
}

// checkErr fails t unless err is one line containing want ("" = no error);
// a FieldError reads as its problems, one per line.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	fe, isFieldError := err.(*apis.FieldError)
	if isFieldError {
		err = flat(fe)
	}
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("error = nil, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error = %q, want one containing %q", err, want)
	case err != nil && !isFieldError && strings.Contains(err.Error(), "\n"):
		t.Fatalf("error %q spans several lines", err)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	dep := func(name string) v1alpha1.EventDependency {
		return v1alpha1.EventDependency{Name: name, EventSourceName: "webhook", EventName: "example"}
	}
	logT := func(name, conditions string) v1alpha1.Trigger {
		return v1alpha1.Trigger{Template: &v1alpha1.TriggerTemplate{Name: name, Conditions: conditions, Log: &v1alpha1.LogTrigger{}}}
	}
	tests := []struct {
		name string
		deps []v1alpha1.EventDependency
		trig []v1alpha1.Trigger
		want []string
	}{
		{
			name: "duplicate dependency",
			deps: []v1alpha1.EventDependency{dep("a"), dep("a")},
			trig: []v1alpha1.Trigger{logT("t", "")},
			want: []string{`spec.dependencies[1].name: duplicate dependency name "a" (also dependencies[0])`},
		},
		{
			name: "nothing at all",
			want: []string{"spec.dependencies: missing field(s)", "spec.triggers: missing field(s)"},
		},
		{
			name: "all dependency problems are reported with their paths",
			deps: []v1alpha1.EventDependency{{
				Name: "a", EventSourceName: "webhook", EventName: "example",
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
			trig: []v1alpha1.Trigger{logT("t", "")},
			want: []string{
				"spec.dependencies[0].filters.data[0].value[1]: invalid value: (; error parsing regexp: missing closing ): `(`",
				"spec.dependencies[0].filters.data[1].comparator: invalid value: ==; must be one of >=, >, =, !=, <, <=",
				"spec.dependencies[0].filters.data[1].value[0]: invalid value: x; must be a number",
				"spec.dependencies[0].filters.exprs[0].expr: invalid value: a ==; unexpected token EOF (1:4)",
				"spec.dependencies[0].filters.script: invalid Lua script; filter line:1(column:7) near 'then': syntax error",
				"spec.dependencies[0].filters.time.start: invalid value: 9; must be hh:mm:ss",
				"spec.dependencies[0].filters.time.timezone: invalid value: Mars/Base; unknown time zone",
				"spec.dependencies[0].filtersLogicalOperator: invalid value: xor; must be one of and, or",
				"spec.dependencies[0].transform.jq: invalid value: .a |||; unexpected token \"|\"",
			},
		},
		{
			name: "duplicate trigger",
			deps: []v1alpha1.EventDependency{dep("a")},
			trig: []v1alpha1.Trigger{logT("t", ""), logT("t", "")},
			want: []string{`spec.triggers[1].template.name: duplicate trigger name "t" (also triggers[0])`},
		},
		{
			name: "conditions",
			deps: []v1alpha1.EventDependency{dep("dep-a"), dep("dep-b")},
			trig: []v1alpha1.Trigger{logT("syntax", "dep-a || (dep-b"), logT("unknown", "dep-a && dep-c")},
			want: []string{
				"spec.triggers[0].template.conditions: invalid value: dep-a || (dep-b; missing ) at offset 15",
				`spec.triggers[1].template.conditions: invalid value: dep-a && dep-c; unknown dependency "dep-c"`,
			},
		},
		{
			name: "conditionsReset",
			deps: []v1alpha1.EventDependency{dep("a")},
			trig: []v1alpha1.Trigger{{Template: &v1alpha1.TriggerTemplate{Name: "t", Log: &v1alpha1.LogTrigger{},
				ConditionsReset: []v1alpha1.ConditionsResetCriteria{
					{ByTime: &v1alpha1.ConditionsResetByTime{Cron: "every hour"}},
					{ByTime: &v1alpha1.ConditionsResetByTime{Cron: "0 * * * *", Timezone: "Nowhere/City"}},
					{},
				}}}},
			want: []string{
				"spec.triggers[0].template.conditionsReset[0].byTime.cron: invalid value: every hour; expected exactly 5 fields, found 2: [every hour]",
				"spec.triggers[0].template.conditionsReset[1].byTime.timezone: invalid value: Nowhere/City; unknown time zone",
				"spec.triggers[0].template.conditionsReset[2].byTime: missing field(s)",
			},
		},
		{
			name: "trigger parameters and payload",
			deps: []v1alpha1.EventDependency{dep("a")},
			trig: []v1alpha1.Trigger{{
				Template: &v1alpha1.TriggerTemplate{Name: "t", HTTP: &v1alpha1.HTTPTrigger{URL: "http://127.0.0.1/",
					Payload:        []v1alpha1.TriggerParameter{{Src: &v1alpha1.TriggerParameterSource{DependencyName: "b"}}},
					DynamicHeaders: []v1alpha1.TriggerParameter{{Src: &v1alpha1.TriggerParameterSource{DependencyName: "a"}}},
					Parameters: []v1alpha1.TriggerParameter{{Dest: "url",
						Src: &v1alpha1.TriggerParameterSource{DependencyName: "a", DataTemplate: "{{ env \"HOME\" }}"}}},
				}},
				Parameters: []v1alpha1.TriggerParameter{
					{Src: &v1alpha1.TriggerParameterSource{DependencyName: "a"}, Dest: "x", Operation: "replace"},
					{Dest: "y"},
				},
			}},
			want: []string{
				`spec.triggers[0].parameters[0].operation: invalid value: replace; must be one of overwrite, append, prepend`,
				"spec.triggers[0].parameters[1].src: missing field(s)",
				"spec.triggers[0].template.http.dynamicHeaders[0].dest: missing field(s)",
				`spec.triggers[0].template.http.parameters[0].src.dataTemplate: invalid value: {{ env "HOME" }}; template: dataTemplate:1: function "env" not defined`,
				"spec.triggers[0].template.http.payload[0].src.dependencyName: invalid value: b; unknown dependency",
			},
		},
		{
			name: "trigger type",
			deps: []v1alpha1.EventDependency{dep("a")},
			trig: []v1alpha1.Trigger{
				{Template: &v1alpha1.TriggerTemplate{Name: "none"}},
				{Template: &v1alpha1.TriggerTemplate{Name: "pulsar", Pulsar: &v1alpha1.PulsarTrigger{URL: "pulsar://p:6650", Topic: "t"}}},
				{Template: &v1alpha1.TriggerTemplate{Name: "bad", HTTP: &v1alpha1.HTTPTrigger{URL: "http://127.0.0.1/",
					TLS: &v1alpha1.TLSConfig{ClientCertSecret: &corev1.SecretKeySelector{}}}}},
				{},
			},
			want: []string{
				"spec.triggers[0].template: expected exactly one of [argoWorkflow, awsLambda, azureEventHubs, azureServiceBus, custom, email, http, k8s, kafka, log, nats, openWhisk, pulsar, slack], got none",
				`spec.triggers[1].template.pulsar: not runnable yet: trigger type "pulsar" (runnable: ` + strings.Join(triggers.Keys(), ", ") + `)`,
				"spec.triggers[2].template.http.tls.clientKeySecret: missing field(s)",
				"spec.triggers[3].template: missing field(s)",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(&v1alpha1.Sensor{Spec: v1alpha1.SensorSpec{Dependencies: tc.deps, Triggers: tc.trig}}, Options{})
			var fe *apis.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("New = %v, want a *apis.FieldError", err)
			}
			if got := problems(err); !slices.Equal(got, tc.want) {
				t.Errorf("problems =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestNotRunnable(t *testing.T) {
	t.Parallel()
	s := sensorWith(depWith(nil, ""))
	s.Spec.Triggers = append(s.Spec.Triggers,
		v1alpha1.Trigger{Template: &v1alpha1.TriggerTemplate{Name: "p", Pulsar: &v1alpha1.PulsarTrigger{URL: "pulsar://p:6650", Topic: "t",
			Payload: []v1alpha1.TriggerParameter{{Src: &v1alpha1.TriggerParameterSource{DependencyName: "dep"}, Dest: "x"}}}}},
		v1alpha1.Trigger{Template: &v1alpha1.TriggerTemplate{Name: "l", Log: &v1alpha1.LogTrigger{}},
			AtLeastOnce: true, DlqTrigger: &v1alpha1.Trigger{AtLeastOnce: true,
				Template: &v1alpha1.TriggerTemplate{Name: "d", Slack: &v1alpha1.SlackTrigger{Channel: "c"}}}},
	)
	got, err := New(s, Options{AllowNotRunnable: true})
	if err != nil {
		t.Fatalf("New with AllowNotRunnable: %v", err)
	}
	defer got.Close()
	want := []string{"spec.triggers[1].template.pulsar", "spec.triggers[2].dlqTrigger.template.slack"}
	if !slices.Equal(got.NotRunnable(), want) {
		t.Errorf("NotRunnable = %v, want %v", got.NotRunnable(), want)
	}
	// A problem in a trigger that cannot run is still reported.
	s.Spec.Triggers[1].Template.Pulsar.Payload[0].Src.DependencyName = "nope"
	_, err = New(s, Options{AllowNotRunnable: true})
	if w := "spec.triggers[1].template.pulsar.payload[0].src.dependencyName: invalid value: nope; unknown dependency"; !slices.Contains(problems(err), w) {
		t.Errorf("problems = %v, want %q", problems(err), w)
	}
	if runnable := mustNew(t, sensorWith(depWith(nil, ""))); len(runnable.NotRunnable()) != 0 {
		t.Errorf("NotRunnable = %v, want none", runnable.NotRunnable())
	}
}

func TestMatches(t *testing.T) {
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
			var got []string
			for _, d := range s.deps {
				if d.matches(&event.Event{Context: event.Context{Source: tc.source, Subject: tc.subject}}) {
					got = append(got, d.name)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("matching dependencies = %v, want %v", got, tc.want)
			}
		})
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
			name: "or: an error fails although the context passed",
			dep: depWith(&v1alpha1.EventDependencyFilter{
				Context: &v1alpha1.EventContext{Type: "webhook"},
				Data:    messageIs.Data,
			}, "or"),
			ev:      testEvent(`{}`),
			wantErr: "data filter body.message: path does not exist", wantReason: "data filter body.message: path does not exist",
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
			out, pass, reason, err := s.filter(ctx, name, tc.ev)
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
				_, pass, reason, err := s.filter(context.Background(), "dep", testEvent(fmt.Sprintf(`{"n":%d,"s":"abc"}`, n)))
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
