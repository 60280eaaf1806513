package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestTestCommand(t *testing.T) {
	t.Parallel()
	order, err := os.ReadFile("testdata/test/order.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  []string // lines (or parts of lines) of the output, in order
	}{
		{
			name: "a data filter miss is explained",
			args: []string{"-f", "../../examples/webhook/sensor.yaml", "--data", `{"body":{"message":"goodbye"}}`},
			code: 1,
			want: []string{
				"event 1: id=flint-test source=webhook subject=webhook_example type=test ",
				"  dependency test-dep: not matched\n",
				`    fail  data filter body.message: "goodbye" does not match [hello hey]` + "\n",
				"  trigger log-trigger: not firing\n",
				`    condition "test-dep": test-dep waiting` + "\n",
				"sensor webhook: no trigger would fire\n",
			},
		},
		{
			name: "a matching event fires the log trigger",
			args: []string{"-f", "../../examples/webhook/", "--data", `{"body":{"message":"hello"}}`},
			code: 0,
			want: []string{
				"event 1: id=flint-test source=webhook subject=webhook_example type=webhook ",
				"  dependency test-dep: matched\n",
				`    pass  data filter body.message: "hello" matches hello` + "\n",
				"  trigger log-trigger: would fire\n",
				`    condition "test-dep": test-dep satisfied (event flint-test)` + "\n",
				"    template: {\n      \"name\": \"log-trigger\",\n      \"log\": {}\n    }\n",
				"sensor webhook: would fire log-trigger\n",
			},
		},
		{
			name: "a condition across two events, parameters and payload resolved",
			args: []string{"-f", "testdata/test/sensor.yaml", "--event", "testdata/test/order.json", "--event", "testdata/test/payment.json"},
			code: 0,
			want: []string{
				"event 1: id=o1 source=shop subject=order type=webhook time=2026-01-02T10:00:00Z\n",
				"  dependency order: matched\n    no filters\n",
				"  dependency payment: not for this event (it is for shop/payment)\n",
				"  trigger ship: not firing\n",
				`    condition "order && payment": order satisfied (event o1), payment waiting` + "\n",
				"event 2: id=p1 source=shop subject=payment type=webhook ",
				"  dependency order: not for this event (it is for shop/order)\n",
				"  dependency payment: matched\n",
				`    pass  data filter body.status: "ok" matches ^ok$` + "\n",
				"  trigger ship: would fire\n",
				`    condition "order && payment": order satisfied (event o1), payment satisfied (event p1)` + "\n",
				`"url": "http://shipping.invalid/orders/42"`,
				"    payload: {\n      \"order\": \"42\",\n      \"amount\": 12.5\n    }\n",
				"sensor shop: would fire ship\n",
			},
		},
		{
			name: "the condition is not complete with one event",
			args: []string{"-f", "testdata/test/sensor.yaml", "--event", "testdata/test/payment.json"},
			code: 1,
			want: []string{
				`    condition "order && payment": payment satisfied (event p1), order waiting` + "\n",
				"sensor shop: no trigger would fire\n",
			},
		},
		{
			name: "a script filter that would build 4 GB fails at the output limit",
			args: []string{"-f", "testdata/test/gsub-bomb.yaml", "--data", `{"body":{}}`},
			code: 1,
			want: []string{
				"  dependency dep: not matched, error: script filter: filter:2: string.gsub: output of at least 4195000 bytes exceeds the limit of 4194304 bytes\n",
				"sensor gsub-bomb: no trigger would fire\n",
			},
		},
		{
			name:  "an event on stdin and attributes from the flags",
			stdin: string(order),
			args: []string{"-f", "testdata/test/sensor.yaml", "--event", "-", "--data", `{"body":{"status":"declined"}}`,
				"--subject", "payment", "--id", "p9", "--time", "2026-01-02T11:00:00Z"},
			code: 1,
			want: []string{
				"event 2: id=p9 source=shop subject=payment type=test time=2026-01-02T11:00:00Z\n",
				`    fail  data filter body.status: "declined" does not match [^ok$]` + "\n",
				`    condition "order && payment": order satisfied (event o1), payment waiting` + "\n",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, tc.stdin, append([]string{"test"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			rest := out
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q after the lines before it:\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestTestCommandJSON(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "", "test", "-f", "testdata/test/sensor.yaml", "--event", "testdata/test/order.json",
		"--event", "testdata/test/payment.json", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var report struct {
		Sensor    string   `json:"sensor"`
		WouldFire []string `json:"wouldFire"`
		Events    []struct {
			Event        struct{ ID string } `json:"event"`
			Dependencies []struct {
				Name     string `json:"name"`
				ForEvent bool   `json:"forEvent"`
				Passed   bool   `json:"passed"`
				Filters  []struct {
					Filter, Path, Found, Want, Result string
				} `json:"filters"`
			} `json:"dependencies"`
			Triggers []struct {
				Name      string `json:"name"`
				Fires     bool   `json:"fires"`
				Waiting   []string
				Satisfied []struct{ Dependency, EventID string }
				Template  struct {
					HTTP struct{ URL string } `json:"http"`
				} `json:"template"`
				Payload map[string]any `json:"payload"`
			} `json:"triggers"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("output is not one JSON document: %v\n%s", err, out)
	}
	if report.Sensor != "shop" || len(report.WouldFire) != 1 || report.WouldFire[0] != "ship" || len(report.Events) != 2 {
		t.Fatalf("report: %+v", report)
	}
	first, second := report.Events[0], report.Events[1]
	if tr := first.Triggers[0]; tr.Fires || len(tr.Waiting) != 1 || tr.Waiting[0] != "payment" ||
		len(tr.Satisfied) != 1 || tr.Satisfied[0].EventID != "o1" {
		t.Errorf("after the order: %+v", tr)
	}
	pay := second.Dependencies[1]
	if !pay.ForEvent || !pay.Passed || len(pay.Filters) != 1 {
		t.Fatalf("payment dependency: %+v", pay)
	}
	if f := pay.Filters[0]; f.Filter != "filters.data[0]" || f.Path != "body.status" || f.Found != `"ok"` ||
		f.Want != "[^ok$]" || f.Result != "pass" {
		t.Errorf("payment filter: %+v", f)
	}
	tr := second.Triggers[0]
	if !tr.Fires || tr.Template.HTTP.URL != "http://shipping.invalid/orders/42" || tr.Payload["order"] != "42" || tr.Payload["amount"] != 12.5 {
		t.Errorf("ship: %+v", tr)
	}
}

func TestTestCommandBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string // in the error output
	}{
		{"no sensor file", []string{"--data", "{}"}, "-f: the file"},
		{"no event", []string{"-f", "testdata/test/sensor.yaml"}, "no event: give --event FILE"},
		{"unreadable sensor file", []string{"-f", "testdata/test/none.yaml", "--data", "{}"}, "none.yaml"},
		{"invalid sensor", []string{"-f", "testdata/test/bad-sensor.yaml", "--data", "{}"},
			`spec.triggers[0].template.conditions: invalid value: order && refund`},
		{"unreadable event file", []string{"-f", "testdata/test/sensor.yaml", "--event", "testdata/test/none.json"},
			"--event testdata/test/none.json: reading"},
		{"not a CloudEvent", []string{"-f", "testdata/test/sensor.yaml", "--event", "testdata/test/not-an-event.json"},
			"--event testdata/test/not-an-event.json: not a CloudEvent in JSON structured mode"},
		{"an event that is not JSON", []string{"-f", "testdata/test/sensor.yaml", "--event", "testdata/test/sensor.yaml"},
			"not a CloudEvent in JSON structured mode"},
		{"data that is not JSON", []string{"-f", "../../examples/webhook/sensor.yaml", "--data", "hello"}, "--data: not JSON: hello"},
		{"dependencies for several events", []string{"-f", "testdata/test/sensor.yaml", "--data", "{}"},
			"--source and --subject are required: the dependencies of sensor shop are for several events (order=shop/order, payment=shop/payment)"},
		{"several sensors", []string{"-f", "../../examples/", "--data", "{}"}, "name one with --sensor"},
		{"an unknown sensor", []string{"-f", "../../examples/webhook/", "--sensor", "nope", "--data", "{}"},
			`--sensor "nope": -f holds no such Sensor (it holds webhook)`},
		{"a bad time", []string{"-f", "../../examples/webhook/", "--data", "{}", "--time", "noon"}, `--time "noon": want RFC 3339`},
		{"a bad output", []string{"-f", "../../examples/webhook/", "--data", "{}", "-o", "yaml"}, `--output "yaml": want text or json`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, "", append([]string{"test"}, tc.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2\n%s%s", code, out, errOut)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("error output lacks %q:\n%s", tc.want, errOut)
			}
			if out != "" {
				t.Errorf("bad input printed a report:\n%s", out)
			}
		})
	}
}
