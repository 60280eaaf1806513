package sensor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

func TestRenderTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		input      any
		want       string
		wantErr    error
	}{
		{name: "input", text: "{{ .Input }}", input: "x", want: "x"},
		{name: "sprig", text: `{{ .Input | upper | replace "-" "_" }}`, input: "a-b", want: "A_B"},
		{name: "map input", text: "{{ .Input.a.b }}", input: map[string]any{"a": map[string]any{"b": 1.5}}, want: "1.5"},
		{name: "empty output fails", text: `{{ "" }}`, input: "x", wantErr: errNoValue},
		{name: "no value fails", text: "{{ .Input.c }}", input: map[string]any{}, wantErr: errNoValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := compileTemplate("t", tc.text)
			if err != nil {
				t.Fatal(err)
			}
			got, err := renderTemplate(context.Background(), tmpl, tc.input)
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Errorf("renderTemplate = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestTemplateFuncsLeaveOutEnv(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"env", "expandenv"} {
		if _, err := compileTemplate("t", "{{ "+name+` "HOME" }}`); err == nil {
			t.Errorf("%s is available to templates", name)
		}
	}
	if _, ok := templateFuncs()["b64dec"]; !ok {
		t.Error("sprig functions are missing")
	}
}

// TestEvalBudget runs author code that never ends, or would build a huge
// value, under a 100 ms limit: each fails its dependency's filter or
// transform with the limit in the reason, soon after the limit.
func TestEvalBudget(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/hostile.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s v1alpha1.Sensor
	if err := yaml.UnmarshalStrict(raw, &s); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.WarnLevel)
	sn := mustNewWith(t, &s, Options{EvalTimeout: 100 * time.Millisecond, Deps: triggers.Deps{Logger: zap.New(core)}})
	list := make([]string, 300)
	for i := range list {
		list[i] = fmt.Sprint(i)
	}
	ev := webhookEvent("1", `{}`, `{"a":"x","list":[`+strings.Join(list, ",")+`]}`)
	start := time.Now()
	if err := sn.Handle(context.Background(), ev); err != nil {
		t.Fatalf("Handle = %v, want nil (every dependency filtered out)", err)
	}
	// Six evaluations stop at 100ms each; a run to the end would take minutes.
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Handle took %s, want about 6 × 100ms", took)
	}
	got := map[string]string{}
	for _, e := range logs.FilterMessage("dependency filtered out").All() {
		f := e.ContextMap()
		got[fmt.Sprint(f["dependency"])] = fmt.Sprint(f["error"])
	}
	const limit = "evaluation time limit exceeded (100ms)"
	tests := []struct {
		dep, want string
	}{
		{"lua-filter-loop", "script filter: " + limit},
		{"lua-transform-loop", "transform script: " + limit},
		{"jq-loop", "transform jq: " + limit},
		{"template-loop", "data filter body.a: template: " + limit},
		{"expr-loop", "expr filter (all(list, {all(list, {all(list, {all(list, {true})})})})): " + limit},
		{"lua-rep", "script filter: filter:1: string.rep: output of 4000000000 bytes exceeds the limit of 4194304 bytes"},
		{"template-repeat", "data filter body.a: template: repeat: output of 4000000000 bytes exceeds the limit of 4194304 bytes"},
	}
	for _, tc := range tests {
		if got[tc.dep] != tc.want {
			t.Errorf("dependency %s: error %q, want %q", tc.dep, got[tc.dep], tc.want)
		}
	}
}

// TestEvalBudgetCancel checks that an evaluation ends with the event's
// context, before its own limit.
func TestEvalBudgetCancel(t *testing.T) {
	t.Parallel()
	tmpl, err := compileTemplate("t", `{{ range $i := until 100000 }}{{ range $j := until 100000 }}{{ end }}.{{ end }}`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(withEvalTimeout(context.Background(), time.Minute), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = renderTemplate(ctx, tmpl, "x")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrEvalTimeout) {
		t.Errorf("renderTemplate = %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %s, want about 50ms", took)
	}
	// The abandoned render stops at its next write and frees its slot.
	deadline := time.Now().Add(5 * time.Second)
	for len(tmpl.slots) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the abandoned render is still running")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestEvalBudgetSlots checks that renders which cannot be stopped do not
// pile up: once every slot of a template is taken, the next render waits at
// most its time limit and fails without starting.
func TestEvalBudgetSlots(t *testing.T) {
	t.Parallel()
	tmpl, err := compileTemplate("t", `{{ .Input }}`)
	if err != nil {
		t.Fatal(err)
	}
	for range cap(tmpl.slots) {
		tmpl.slots <- struct{}{}
	}
	ctx := withEvalTimeout(context.Background(), 20*time.Millisecond)
	if _, err := renderTemplate(ctx, tmpl, "x"); !errors.Is(err, ErrEvalTimeout) {
		t.Fatalf("renderTemplate with no free slot = %v, want %v", err, ErrEvalTimeout)
	}
	<-tmpl.slots
	if got, err := renderTemplate(ctx, tmpl, "x"); err != nil || got != "x" {
		t.Fatalf("renderTemplate with a free slot = %q, %v; want x", got, err)
	}
}

func TestBoundedTemplateFuncs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text, want, wantErr string
	}{
		{text: `{{ repeat 3 "ab" }}`, want: "ababab"},
		{text: `{{ repeat 4000000000 "x" }}`, wantErr: "repeat: output of 4000000000 bytes exceeds the limit of 4194304 bytes"},
		{text: `{{ until 3 }}`, want: "[0 1 2]"},
		{text: `{{ until 1000000000 }}`, wantErr: "untilStep: the list would exceed 100000 elements"},
		{text: `{{ untilStep 0 10 4 }}`, want: "[0 4 8]"},
		{text: `{{ untilStep 10 0 -5 }}`, want: "[10 5]"},
		{text: `{{ seq 3 }}`, want: "1 2 3"},
		{text: `{{ seq 1 1000000000 }}`, wantErr: "seq: the sequence would exceed 100000 numbers"},
		{text: `{{ range $i := until 300000 }}{{ "0123456789abcdef" }}{{ end }}`, wantErr: "untilStep: the list would exceed 100000 elements"},
		{text: `{{ range $i := until 100000 }}{{ repeat 100 "x" }}{{ end }}`, wantErr: "template output exceeds 4194304 bytes"},
	}
	for _, tc := range tests {
		tmpl, err := compileTemplate("t", tc.text)
		if err != nil {
			t.Fatal(err)
		}
		got, err := renderTemplate(withEvalTimeout(context.Background(), time.Minute), tmpl, "x")
		if got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s = %q, %v; want %q, %q", tc.text, got, err, tc.want, tc.wantErr)
		}
	}
}
