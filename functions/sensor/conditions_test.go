package sensor

import (
	"reflect"
	"testing"
)

func TestParseCondition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr    string
		have    []string
		want    bool
		names   []string
		wantErr bool
	}{
		{expr: "dep-1", have: []string{"dep-1"}, want: true, names: []string{"dep-1"}},
		{expr: "dep-1", have: nil, want: false, names: []string{"dep-1"}},
		{expr: "(test-dep-1 && test-dep-2) || test-dep-3", have: []string{"test-dep-1"}, want: false, names: []string{"test-dep-1", "test-dep-2", "test-dep-3"}},
		{expr: "(test-dep-1 && test-dep-2) || test-dep-3", have: []string{"test-dep-1", "test-dep-2"}, want: true, names: []string{"test-dep-1", "test-dep-2", "test-dep-3"}},
		{expr: "(test-dep-1 && test-dep-2) || test-dep-3", have: []string{"test-dep-3"}, want: true, names: []string{"test-dep-1", "test-dep-2", "test-dep-3"}},
		{expr: "a && b || c && d", have: []string{"c", "d"}, want: true, names: []string{"a", "b", "c", "d"}},
		{expr: "a && (b", wantErr: true},
		{expr: "a &&", wantErr: true},
		{expr: "a b", wantErr: true},
		{expr: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			c, names, err := parseCondition(tc.expr)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			set := map[string]bool{}
			for _, h := range tc.have {
				set[h] = true
			}
			if got := c.eval(func(d string) bool { return set[d] }); got != tc.want {
				t.Fatalf("eval(%v) = %v, want %v", tc.have, got, tc.want)
			}
			if !reflect.DeepEqual(names, tc.names) {
				t.Fatalf("names = %v, want %v", names, tc.names)
			}
		})
	}
}
