package sensor

import (
	"slices"
	"strings"
	"testing"
)

func TestParseConditions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr    string
		deps    []string
		sat     string // comma-separated satisfied dependencies
		want    bool
		wantErr string
	}{
		{expr: "dep-a", deps: []string{"dep-a"}, sat: "dep-a", want: true},
		{expr: "dep-a", deps: []string{"dep-a"}, sat: "", want: false},
		{expr: "(dep01 || dep02) && dep04", deps: []string{"dep01", "dep02", "dep04"}, sat: "dep02,dep04", want: true},
		{expr: "(dep01 || dep02) && dep04", deps: []string{"dep01", "dep02", "dep04"}, sat: "dep01", want: false},
		{expr: "(test-dep-1 && test-dep-2) || test-dep-3", deps: []string{"test-dep-1", "test-dep-2", "test-dep-3"}, sat: "test-dep-3", want: true},
		{expr: "a || b && c", deps: []string{"a", "b", "c"}, sat: "b", want: false},
		{expr: "a || b && c", deps: []string{"a", "b", "c"}, sat: "a", want: true},
		{expr: "  a&&a  ", deps: []string{"a"}, sat: "a", want: true},
		{expr: "", wantErr: "empty expression"},
		{expr: "(a && b", wantErr: "missing ) at offset 7"},
		{expr: "a &&", wantErr: "unexpected end of expression"},
		{expr: "a & b", wantErr: `unexpected "&" at offset 2`},
		{expr: "a b", wantErr: `unexpected "b" at offset 2`},
		{expr: "!a", wantErr: `unexpected "!" at offset 0`},
		{expr: "a)", wantErr: `unexpected ")" at offset 1`},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			c, err := parseConditions(tc.expr)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("parseConditions(%q) error = %v, want %q", tc.expr, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseConditions(%q) error = %v", tc.expr, err)
			}
			if got := c.dependencies(); !slices.Equal(got, tc.deps) {
				t.Errorf("dependencies() = %v, want %v", got, tc.deps)
			}
			sat := strings.Split(tc.sat, ",")
			if got := c.eval(func(d string) bool { return slices.Contains(sat, d) }); got != tc.want {
				t.Errorf("eval(%s) = %v, want %v", tc.sat, got, tc.want)
			}
		})
	}
}
