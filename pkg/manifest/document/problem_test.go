package document

import "testing"

func TestProblemString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.yaml", Doc: 1, Docs: 1, Path: "spec.x", Reason: "missing field(s)"}, "a.yaml: spec.x: missing field(s)"},
		{Problem{File: "a.yaml", Doc: 2, Docs: 3, Path: "spec.x", Reason: "missing field(s)"}, "a.yaml#2: spec.x: missing field(s)"},
		{Problem{File: "a.yaml", Doc: 2, Docs: 3, Reason: "invalid YAML: x"}, "a.yaml#2: invalid YAML: x"},
		{Problem{File: "dir", Reason: "no .yaml, .yml or .json files in directory"}, "dir: no .yaml, .yml or .json files in directory"},
	}
	for _, tc := range tests {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	ps := Problems{tests[0].p, tests[1].p}
	if got, want := ps.Error(), "a.yaml: spec.x: missing field(s)\na.yaml#2: spec.x: missing field(s)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
