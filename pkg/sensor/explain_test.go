package sensor

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/flintevents/flint/pkg/event"
)

// explainEvent is an event from source/subject with data (none when "").
func explainEvent(id, source, subject, data string, at time.Time) *event.Event {
	ev := &event.Event{Context: event.Context{ID: id, Source: source, Subject: subject, Type: "webhook",
		SpecVersion: "1.0", DataContentType: "application/json", Time: at}}
	if data != "" {
		ev.Data = []byte(data)
	}
	return ev
}

func mustExplainer(t *testing.T, name string) *Explainer {
	t.Helper()
	x, err := NewExplainer(loadSensor(t, name, ""))
	if err != nil {
		t.Fatalf("NewExplainer: %v", err)
	}
	return x
}

func mustExplain(t *testing.T, x *Explainer, ev *event.Event) EventExplanation {
	t.Helper()
	out, err := x.Explain(context.Background(), ev)
	if err != nil {
		t.Fatalf("Explain: %v", err)
	}
	return out
}

func dependencyNamed(t *testing.T, x EventExplanation, name string) DependencyExplanation {
	t.Helper()
	for _, d := range x.Dependencies {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no dependency %q in %+v", name, x.Dependencies)
	return DependencyExplanation{}
}

func triggerNamed(t *testing.T, x EventExplanation, name string) TriggerExplanation {
	t.Helper()
	for _, tr := range x.Triggers {
		if tr.Name == name {
			return tr
		}
	}
	t.Fatalf("no trigger %q in %+v", name, x.Triggers)
	return TriggerExplanation{}
}

func checkLines(cs []FilterCheck) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out
}

func TestExplainFilters(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC) // 11:00 in Paris
	evening := time.Date(2026, 1, 2, 17, 30, 0, 0, time.UTC)
	tests := []struct {
		name, dep, data string
		at              time.Time
		typ             string // event type; webhook when ""
		passed          bool
		reason, err     string
		checks          []string
	}{
		{name: "data and: every filter passes", dep: "data", data: `{"body":{"message":"hello","n":5}}`, passed: true,
			checks: []string{`pass  data filter body.message: "hello" matches hello`, `pass  data filter body.n: 5 > 3`}},
		{name: "data and: the first miss decides", dep: "data", data: `{"body":{"message":"goodbye","n":5}}`,
			reason: `data filter body.message: "goodbye" does not match [hello hey]`,
			checks: []string{`fail  data filter body.message: "goodbye" does not match [hello hey]`}},
		{name: "data and: a number below the bound", dep: "data", data: `{"body":{"message":"hey","n":2}}`,
			reason: `data filter body.n: 2 is not > [3]`,
			checks: []string{`pass  data filter body.message: "hey" matches hey`, `fail  data filter body.n: 2 is not > [3]`}},
		{name: "data: a missing path is an error", dep: "data", data: `{"body":{"n":5}}`,
			err:    "data filter body.message: path does not exist",
			checks: []string{`error data filter body.message: path does not exist`}},
		{name: "data: no data passes", dep: "data", passed: true,
			checks: []string{`pass  data filters: the event has no data, which passes (as in Argo Events)`}},
		{name: "data: data that is not JSON", dep: "data", data: `not json`,
			err:    "data filters: event data is not valid JSON",
			checks: []string{`error data filters: event data is not valid JSON`}},
		{name: "data or: the first match passes", dep: "data-or", data: `{"body":{"message":"bye"}}`, passed: true,
			checks: []string{`pass  data filter body.message: "bye" matches bye`}},
		{name: "data or: every filter misses", dep: "data-or", data: `{"body":{"message":"hi","urgent":false}}`,
			reason: `data filter body.message: "hi" does not match [bye] / data filter body.urgent: false does not equal [true]`,
			checks: []string{`fail  data filter body.message: "hi" does not match [bye]`,
				`fail  data filter body.urgent: false does not equal [true]`}},
		{name: "data or: a bool matches", dep: "data-or", data: `{"body":{"message":"hi","urgent":true}}`, passed: true,
			checks: []string{`fail  data filter body.message: "hi" does not match [bye]`, `pass  data filter body.urgent: true equals true`}},
		{name: "exprs true", dep: "exprs", data: `{"body":{"n":5,"kind":"order"}}`, passed: true,
			checks: []string{`pass  expr filter (num > 3 && kind == "order"): true`}},
		{name: "exprs false", dep: "exprs", data: `{"body":{"n":1,"kind":"order"}}`,
			reason: `expr filter (num > 3 && kind == "order"): false`,
			checks: []string{`fail  expr filter (num > 3 && kind == "order"): false`}},
		{name: "exprs: a missing field path", dep: "exprs", data: `{"body":{"kind":"order"}}`,
			err:    `expr filter (num > 3 && kind == "order"): body.n: path does not exist`,
			checks: []string{`error expr filter (num > 3 && kind == "order"): body.n: path does not exist`}},
		{name: "context: every attribute equals", dep: "context", data: `{}`, passed: true,
			checks: []string{`pass  context filter type: "webhook" is "webhook"`,
				`pass  context filter datacontenttype: "application/json" is "application/json"`}},
		{name: "context: another type", dep: "context", data: `{}`, typ: "github",
			reason: `context filter type: "github" is not "webhook"`,
			checks: []string{`fail  context filter type: "github" is not "webhook"`}},
		{name: "time: inside the window in its zone", dep: "time", data: `{}`, at: day, passed: true,
			checks: []string{`pass  time filter: 11:00:00 Europe/Paris is in [09:00:00, 17:00:00)`}},
		{name: "time: after the window", dep: "time", data: `{}`, at: evening,
			reason: `time filter: 18:30:00 Europe/Paris is not in [09:00:00, 17:00:00)`,
			checks: []string{`fail  time filter: 18:30:00 Europe/Paris is not in [09:00:00, 17:00:00)`}},
		{name: "script true", dep: "script", data: `{"body":{"n":5}}`, passed: true,
			checks: []string{`pass  script filter: returned true`}},
		{name: "script false", dep: "script", data: `{"body":{"n":1}}`,
			reason: `script filter: returned false, not true`,
			checks: []string{`fail  script filter: returned false, not true`}},
		{name: "or across kinds: an error and a pass", dep: "or-kinds", data: `{}`,
			err:    `data filter body.missing: path does not exist`,
			checks: []string{`error data filter body.missing: path does not exist`, `pass  context filter type: "webhook" is "webhook"`}},
		{name: "or across kinds: an error and a miss", dep: "or-kinds", data: `{}`, typ: "github",
			err: `data filter body.missing: path does not exist`,
			checks: []string{`error data filter body.missing: path does not exist`,
				`fail  context filter type: "github" is not "webhook"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x := mustExplainer(t, "explain-filters")
			at := tc.at
			if at.IsZero() {
				at = day
			}
			ev := explainEvent("e1", "webhook", "example", tc.data, at)
			if tc.typ != "" {
				ev.Context.Type = tc.typ
			}
			d := dependencyNamed(t, mustExplain(t, x, ev), tc.dep)
			if !d.ForEvent || d.Passed != tc.passed || d.Reason != tc.reason || d.Error != tc.err {
				t.Errorf("forEvent %t, passed %t, reason %q, error %q; want true, %t, %q, %q",
					d.ForEvent, d.Passed, d.Reason, d.Error, tc.passed, tc.reason, tc.err)
			}
			if got := checkLines(d.Filters); !reflect.DeepEqual(got, tc.checks) {
				t.Errorf("checks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.checks, "\n"))
			}
		})
	}
}

func TestExplainFilterCheckFields(t *testing.T) {
	t.Parallel()
	x := mustExplainer(t, "explain-filters")
	at := time.Date(2026, 1, 2, 17, 30, 0, 0, time.UTC)
	ev := explainEvent("e1", "webhook", "example", `{"body":{"message":"goodbye","n":1,"kind":"order"}}`, at)
	ev.Context.Type = "github"
	out := mustExplain(t, x, ev)
	tests := []struct {
		dep  string
		want FilterCheck
	}{
		{"data", FilterCheck{Filter: "filters.data[0]", Path: "body.message", Type: "string", Found: `"goodbye"`, Comparator: "=",
			Want: "[hello hey]", Result: CheckFail, Message: `data filter body.message: "goodbye" does not match [hello hey]`}},
		{"exprs", FilterCheck{Filter: "filters.exprs[0]", Path: "body.n, body.kind", Found: `num=1, kind="order"`, Comparator: "=",
			Want: "true", Result: CheckFail, Message: `expr filter (num > 3 && kind == "order"): false`}},
		{"context", FilterCheck{Filter: "filters.context.type", Path: "type", Found: `"github"`, Comparator: "=",
			Want: `"webhook"`, Result: CheckFail, Message: `context filter type: "github" is not "webhook"`}},
		{"time", FilterCheck{Filter: "filters.time", Path: "time", Found: "18:30:00 Europe/Paris", Comparator: "in",
			Want: "[09:00:00, 17:00:00)", Result: CheckFail, Message: "time filter: 18:30:00 Europe/Paris is not in [09:00:00, 17:00:00)"}},
		{"script", FilterCheck{Filter: "filters.script", Comparator: "=", Want: "true", Result: CheckFail,
			Message: "script filter: returned false, not true"}},
	}
	for _, tc := range tests {
		d := dependencyNamed(t, out, tc.dep)
		if len(d.Filters) == 0 || d.Filters[0] != tc.want {
			t.Errorf("%s: checks %+v, want first %+v", tc.dep, d.Filters, tc.want)
		}
	}
	other := dependencyNamed(t, out, "other")
	if other.ForEvent || other.Passed || other.Filters != nil ||
		other.Reason != "the event is from webhook/example, the dependency wants webhook/other" {
		t.Errorf("dependency for other events: %+v", other)
	}
}

func TestExplainConditions(t *testing.T) {
	t.Parallel()
	x := mustExplainer(t, "explain-conditions")
	at := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	type state struct {
		fires, already bool
		satisfied      []SatisfiedDependency
		waiting        []string
	}
	sat := func(pairs ...string) []SatisfiedDependency {
		out := []SatisfiedDependency{}
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, SatisfiedDependency{Dependency: pairs[i], EventID: pairs[i+1]})
		}
		return out
	}
	steps := []struct {
		name string
		ev   *event.Event
		want map[string]state
	}{
		{"an order: ship waits for the payment", explainEvent("o1", "shop", "order", `{"body":{"id":"42"}}`, at), map[string]state{
			"ship":   {satisfied: sat("order", "o1"), waiting: []string{"payment"}},
			"audit":  {fires: true, satisfied: sat("order", "o1"), waiting: []string{"payment"}},
			"create": {fires: true, satisfied: sat("order", "o1"), waiting: []string{}},
		}},
		{"a failed payment is filtered out", explainEvent("p1", "shop", "payment", `{"body":{"status":"failed"}}`, at), map[string]state{
			"ship":   {satisfied: sat("order", "o1"), waiting: []string{"payment"}},
			"audit":  {satisfied: sat(), waiting: []string{"order", "payment"}},
			"create": {satisfied: sat(), waiting: []string{"order"}},
		}},
		{"the payment completes the condition", explainEvent("p2", "shop", "payment",
			`{"body":{"status":"ok","amount":12.5,"currency":"EUR"}}`, at), map[string]state{
			"ship":   {fires: true, satisfied: sat("order", "o1", "payment", "p2"), waiting: []string{}},
			"audit":  {fires: true, satisfied: sat("payment", "p2"), waiting: []string{"order"}},
			"create": {satisfied: sat(), waiting: []string{"order"}},
		}},
		{"a redelivered payment fires nothing again", explainEvent("p2", "shop", "payment",
			`{"body":{"status":"ok","amount":12.5,"currency":"EUR"}}`, at), map[string]state{
			"ship":  {satisfied: sat(), waiting: []string{"order", "payment"}},
			"audit": {already: true, satisfied: sat("payment", "p2"), waiting: []string{"order"}},
		}},
	}
	var all []EventExplanation
	for _, step := range steps {
		out := mustExplain(t, x, step.ev)
		all = append(all, out)
		for name, want := range step.want {
			tr := triggerNamed(t, out, name)
			got := state{tr.Fires, tr.AlreadyFired, tr.Satisfied, tr.Waiting}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: trigger %s = %+v, want %+v", step.name, name, got, want)
			}
			if tr.Fires != (tr.Template != nil) {
				t.Errorf("%s: trigger %s fires %t with template %s", step.name, name, tr.Fires, tr.Template)
			}
		}
	}
	if got, want := WouldFire(all), []string{"audit", "create", "ship"}; !reflect.DeepEqual(got, want) {
		t.Errorf("WouldFire = %v, want %v", got, want)
	}

	ship := triggerNamed(t, all[2], "ship")
	for path, want := range map[string]string{
		"http.url":                "http://shipping.invalid/orders/42",
		"http.method":             "POST",
		"http.headers.X-Currency": "EUR",
		"name":                    "ship",
	} {
		if got := gjson.GetBytes(ship.Template, path).String(); got != want {
			t.Errorf("ship template %s = %q, want %q (template %s)", path, got, want, ship.Template)
		}
	}
	jsonEqual(t, string(ship.Payload), `{"order":"42","amount":12.5}`)
	create := triggerNamed(t, all[0], "create")
	if got := gjson.GetBytes(create.Template, "k8s.source.resource.data.id").String(); got != "42" || create.Note != "" {
		t.Errorf("create: object data.id = %q, note %q; want the parameter applied to the inline object", got, create.Note)
	}
	if audit := triggerNamed(t, all[0], "audit"); audit.Payload != nil || gjson.GetBytes(audit.Template, "log").Raw != "{}" {
		t.Errorf("audit: template %s, payload %s", audit.Template, audit.Payload)
	}
}

// TestExplainResolvesAsTheEngineFires checks that the resolved template
// and payload of a dry run are what the engine sends when it fires.
func TestExplainResolvesAsTheEngineFires(t *testing.T) {
	t.Parallel()
	bodies := []string{
		`{"kind":"order","name":"flint","count":3,"path":"orders"}`,
		`{"kind":"order","name":"flint","count":3,"path":"o","field":"who"}`,
	}
	for _, body := range bodies {
		tg, url := serve(t, http.StatusOK)
		ev := webhookEvent("e1", `{"X-Req":["r-42"]}`, body)
		if err := mustNew(t, loadSensor(t, "resolve", url)).Handle(context.Background(), ev); err != nil {
			t.Fatalf("Handle = %v", err)
		}
		reqs := tg.got()
		if len(reqs) != 1 {
			t.Fatalf("target got %d requests, want 1", len(reqs))
		}
		x, err := NewExplainer(loadSensor(t, "resolve", url))
		if err != nil {
			t.Fatal(err)
		}
		out := mustExplain(t, x, ev)
		tr := triggerNamed(t, out, "call")
		if !tr.Fires {
			t.Fatalf("explained trigger does not fire: %+v", tr)
		}
		spec := gjson.GetBytes(tr.Template, "http")
		if got, want := spec.Get("url").String(), url+reqs[0].path; got != want {
			t.Errorf("url = %q, engine called %q", got, want)
		}
		if got := spec.Get("method").String(); got != reqs[0].method {
			t.Errorf("method = %q, engine used %q", got, reqs[0].method)
		}
		for _, h := range []string{"X-Static", "X-Request-Id", "X-Event.Id"} {
			if got, want := spec.Get("headers."+strings.ReplaceAll(h, ".", `\.`)).String(), reqs[0].header.Get(h); got != want {
				t.Errorf("header %s = %q, engine sent %q", h, got, want)
			}
		}
		jsonEqual(t, string(tr.Payload), reqs[0].body)
	}
}

func TestExplainResolutionFailure(t *testing.T) {
	t.Parallel()
	x := mustExplainer(t, "resolve")
	// body.name is missing: the payload cannot be built, firing would fail.
	out := mustExplain(t, x, webhookEvent("e1", `{"X-Req":["r"]}`, `{"kind":"order","count":1,"path":"x"}`))
	tr := triggerNamed(t, out, "call")
	if tr.Fires || tr.Template != nil || !strings.Contains(tr.Error, "http.payload[0]: unable to resolve") {
		t.Errorf("trigger = %+v, want no firing and the payload error", tr)
	}
	if got := WouldFire([]EventExplanation{out}); len(got) != 0 {
		t.Errorf("WouldFire = %v, want none", got)
	}
}

func TestExplainerProblems(t *testing.T) {
	t.Parallel()
	s := loadSensor(t, "explain-conditions", "")
	s.Spec.Triggers[0].Template.Conditions = "order && refund"
	s.Spec.Dependencies[1].Filters.Data[0].Value = nil
	_, err := NewExplainer(s)
	got := problems(err)
	want := []string{
		"spec.dependencies[1].filters.data[0].value: missing field(s)",
		`spec.triggers[0].template.conditions: invalid value: order && refund; unknown dependency "refund"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

func TestExplainFiltersOfASensor(t *testing.T) {
	t.Parallel()
	s := mustNew(t, loadSensor(t, "explain-filters", ""))
	ev := explainEvent("e1", "webhook", "example", `{"body":{"message":"goodbye","n":5}}`, time.Now())
	out := s.ExplainFilters(context.Background(), ev)
	if len(out) != 8 {
		t.Fatalf("got %d dependencies, want 8", len(out))
	}
	if d := out[0]; d.Passed || checkLines(d.Filters)[0] != `fail  data filter body.message: "goodbye" does not match [hello hey]` {
		t.Errorf("data dependency: %+v", d)
	}
	raw, err := json.Marshal(out[0])
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, string(raw), `{"name":"data","eventSourceName":"webhook","eventName":"example","forEvent":true,"passed":false,
		"reason":"data filter body.message: \"goodbye\" does not match [hello hey]",
		"filters":[{"filter":"filters.data[0]","path":"body.message","type":"string","found":"\"goodbye\"","comparator":"=",
		"want":"[hello hey]","result":"fail","message":"data filter body.message: \"goodbye\" does not match [hello hey]"}]}`)
}

// TestExplainOrConditionsFirePerSatisfiedDependency checks that the dry run
// shows one firing per dependency an event satisfies under `||`, as the
// engine fires them, and that a redelivery fires neither again.
func TestExplainOrConditionsFirePerSatisfiedDependency(t *testing.T) {
	t.Parallel()
	x := mustExplainer(t, "parity-or-conditions")
	type firing struct {
		fires, already bool
		satisfied      []SatisfiedDependency
	}
	tests := []struct {
		name string
		want []firing
	}{
		{"the event satisfies a and b: two firings", []firing{
			{fires: true, satisfied: []SatisfiedDependency{{"a", "e1"}}},
			{fires: true, satisfied: []SatisfiedDependency{{"b", "e1"}}},
		}},
		{"redelivered: both already fired", []firing{
			{already: true, satisfied: []SatisfiedDependency{{"a", "e1"}}},
			{already: true, satisfied: []SatisfiedDependency{{"b", "e1"}}},
		}},
	}
	for _, tc := range tests {
		out := mustExplain(t, x, webhookEvent("e1", `{}`, `{"kind":"order"}`))
		var got []firing
		for _, tr := range out.Triggers {
			if tr.Name != "call" {
				t.Errorf("%s: unexpected trigger %q", tc.name, tr.Name)
			}
			got = append(got, firing{tr.Fires, tr.AlreadyFired, tr.Satisfied})
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: firings %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
