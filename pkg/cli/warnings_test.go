package cli

import (
	"strings"
	"testing"
)

// TestWarningsInEveryCommand: validate, dev, compile and test load the same
// way, so each warns of an unknown field and of a dependency on an
// EventSource that is not among those loaded, with what was probably meant.
func TestWarningsInEveryCommand(t *testing.T) {
	t.Parallel()
	warnings := []string{
		`warning: testdata/warnings.yaml#2: spec.dependencies[0].filter: unknown field, did you mean "filters"? (ignored, as Argo Events ignores it; --strict makes it an error)`,
		`warning: testdata/warnings.yaml#2: spec.dependencies[0].eventSourceName: EventSource "webhok" is not among those loaded in namespace "default" (webhook): none of their events fires this dependency; did you mean "webhook"?`,
	}
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"validate", []string{"validate", "-f", "testdata/warnings.yaml"}, 0},
		// dev warns before it starts; a bad --log-format then stops it.
		{"dev", []string{"dev", "-f", "testdata/warnings.yaml", "--log-format", "none"}, 1},
		{"compile", []string{"compile", "-f", "testdata/warnings.yaml", "-o", t.TempDir()}, 0},
		{"test", []string{"test", "-f", "testdata/warnings.yaml", "--data", `{"body":{"kind":"order"}}`}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range warnings {
				if !strings.Contains(out+errOut, w+"\n") {
					t.Errorf("output lacks\n  %s\nin\n%s%s", w, out, errOut)
				}
			}
		})
	}
}
