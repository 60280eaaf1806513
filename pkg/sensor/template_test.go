package sensor

import (
	"errors"
	"testing"
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
			got, err := renderTemplate(tmpl, tc.input)
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
