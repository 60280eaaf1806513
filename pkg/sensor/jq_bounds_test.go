package sensor

import (
	"encoding/json"
	"testing"

	"github.com/itchyny/gojq"
)

// TestBoundedJQKeepsResults runs each program with gojq as it is and
// rewritten by boundJQ: below the limits the results are the same, beyond
// them the rewritten one fails with the limit.
func TestBoundedJQKeepsResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src, wantErr string
	}{
		{src: `"x" * 3`},
		{src: `2 * 3.5`},
		{src: `3 * "ab"`},
		{src: `"x" * 0`},
		{src: `"x" * -1`},
		{src: `{"a":{"b":1}} * {"a":{"c":2}}`},
		{src: `{"a":2} | .a *= 3`},
		{src: `{"a":"ab"} | .a *= (2, 3)`},
		{src: `[1, 2] | map(. * 2)`},
		{src: `def f: . * 2; 4 | f`},
		{src: `{"a":[1,2,3]} | .a[1], .a[-1], .a[1:], .["a"]`},
		{src: `{"a":[1,2,3]} | .a[1] = 9 | .a[5] |= 1`},
		{src: `null | setpath(["a", 3]; 1) | delpaths([["a", 0]])`},
		{src: `[1,2,3] | .[1:2] = ["x"] | .[1e8:] = [1]`},
		{src: `["a", 1, null, true] | join(", "), join(",", ";")`},
		{src: `[1, 2, 3] | add, add(.[] * 2), tojson, tostring, (.[0] | tostring), @json, @text, @csv, @tsv, @sh, @base64`},
		{src: `"a\(1 + 1)b\([1])" as $s | {"k\(2)": $s} | ., @base64 "x\(.k2)", @html`},
		{src: `def join(x): "mine"; [1] | join(",")`},
		{src: `{"a":"xx"} | .a |= tostring | .b = (.a | tojson)`},
		{src: `"x" * 1500000000`, wantErr: "string repetition: output of 1500000000 bytes exceeds the limit of 4194304 bytes"},
		{src: `{"s":"x"} | .s *= 1e9`, wantErr: "string repetition: output of 1000000000 bytes exceeds the limit of 4194304 bytes"},
		{src: `("x" * 4000000) as $s | [range(20) | $s] | join("")`, wantErr: "join: output of at least 68000053 bytes exceeds the limit of 67108864 bytes"},
		{src: `("x" * 4000000) as $s | [range(20) | $s] | add`, wantErr: "add: output of at least 68000053 bytes exceeds the limit of 67108864 bytes"},
		{src: `("x" * 4000000) as $s | [range(20) | $s] | tojson`, wantErr: "tojson: output of at least 68000053 bytes exceeds the limit of 67108864 bytes"},
		{src: `("x" * 4000000) as $s | [range(20) | $s] | @csv`, wantErr: "@csv: output of at least 68000053 bytes exceeds the limit of 67108864 bytes"},
		{src: `("x" * 4000000) as $s | "\([range(20) | $s])"`, wantErr: "string interpolation: output of at least 68000053 bytes exceeds the limit of 67108864 bytes"},
		{src: `null | .[67108000] = 1`, wantErr: "array index 67108000 exceeds the limit of 4194304"},
		{src: `null | setpath(["a", 67108000]; 1)`, wantErr: "array index 67108000 exceeds the limit of 4194304"},
	}
	for _, tc := range tests {
		q, err := gojq.Parse(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		var want []any
		if tc.wantErr == "" {
			want = runJQ(t, q)
		}
		q, _ = gojq.Parse(tc.src)
		if err := boundJQ(q); err != nil {
			t.Fatal(err)
		}
		got := runJQ(t, q, jqOptions()...)
		if tc.wantErr != "" {
			if len(got) != 1 || got[0] != "error: "+tc.wantErr {
				t.Errorf("%s = %v, want the error %s", tc.src, got, tc.wantErr)
			}
			continue
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s = %s, want %s as gojq gives", tc.src, g, w)
		}
	}
}

func runJQ(t *testing.T, q *gojq.Query, opts ...gojq.CompilerOption) []any {
	t.Helper()
	code, err := gojq.Compile(q, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	for it := code.Run(nil); ; {
		v, ok := it.Next()
		if !ok {
			return out
		}
		if err, ok := v.(error); ok {
			return append(out, "error: "+err.Error())
		}
		out = append(out, v)
	}
}
