package sensor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestBoundedTemplateFuncsKeepResults checks that the functions bounded by
// their output size give sprig's and text/template's results below the
// limits, and refuse, naming the function and the sizes, above them.
func TestBoundedTemplateFuncsKeepResults(t *testing.T) {
	t.Parallel()
	const limit = "exceeds the limit of 4194304 bytes"
	tests := []struct {
		text, want, wantErr string
	}{
		{text: `{{ indent 2 "a\nb" }}`, want: "  a\n  b"},
		{text: `{{ nindent 2 "a" }}`, want: "\n  a"},
		{text: `{{ replace "a" "xyz" "banana" }}`, want: "bxyznxyznxyz"},
		{text: `{{ replace "" "-" "ab" }}`, want: "-a-b-"},
		{text: `{{ len (randAlphaNum 12) }}`, want: "12"},
		{text: `{{ join "," (list 1 "a" 2.5) }}`, want: "1,a,2.5"},
		{text: `{{ cat "a" 1 "b" }}`, want: "a 1 b"},
		{text: `{{ printf "%05d|%s" 42 "x" }}`, want: "00042|x"},
		{text: `{{ print "a" 1 }}`, want: "a1"},
		{text: `{{ wrapWith 2 "-" "abcdef" }}`, want: "ab-cd-ef"},
		{text: `{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}`, want: "-W-xxW-"},
		{text: `{{ toJson (dict "a" (list 1 2)) }}`, want: `{"a":[1,2]}`},
		{text: `{{ toPrettyJson (dict "a" 1) }}`, want: "{\n  \"a\": 1\n}"},
		{text: `{{ concat (list 1) (list 2 3) }}`, want: "[1 2 3]"},
		{text: `{{ append (list 1) 2 }}`, want: "[1 2]"},
		{text: `{{ .Input }}`, want: "x"},
		{text: `{{ .Input.missing }}`, wantErr: errNoValue.Error()},
		{text: `{{ define "u" }}<{{ . }}>{{ end }}{{ range $i := until 3 }}{{ template "u" $i }}{{ end }}`, want: "<0><1><2>"},
		{text: `{{ range 3 }}.{{ else }}none{{ end }}`, want: "..."},
		{text: `{{ range $i, $c := list "a" "b" }}{{ if $i }},{{ end }}{{ $c }}{{ end }}`, want: "a,b"},
		{text: `{{ uniq (list 1 "a" 1 2.5 "a" (list 1) (list 1) nil nil) }}`, want: "[1 a 2.5 [1] <nil>]"},
		{text: `{{ len (uniq (until 100000)) }} {{ len (mustUniq (concat (until 50000) (until 50000))) }}`, want: "100000 50000"},
		{text: `{{ indent 1500000000 "x" }}`, wantErr: "indent: output of 1500000001 bytes " + limit},
		{text: `{{ nindent 5 (repeat 1000000 "\n") }}`, wantErr: "nindent: output of 6000006 bytes " + limit},
		{text: `{{ replace "x" (repeat 100 "y") (repeat 100000 "x") }}`, wantErr: "replace: output of 10000000 bytes " + limit},
		{text: `{{ randAlphaNum 1500000000 }}`, wantErr: "randAlphaNum: output of 1500000000 bytes " + limit},
		{text: `{{ randAscii 5000000 }}`, wantErr: "randAscii: output of 5000000 bytes " + limit},
		{text: `{{ printf "%999999d%999999d%999999d%999999d%999999d" 1 2 3 4 5 }}`, wantErr: "printf: output of at least 5000195 bytes " + limit},
		{text: `{{ wrapWith 1 (repeat 10 "-") (repeat 1000000 "x") }}`, wantErr: "wrapWith: output of 11000010 bytes " + limit},
		{text: `{{ regexReplaceAll "x" (repeat 1000000 "x") "$0$0$0$0$0" }}`, wantErr: "regexReplaceAll: output of "},
		{text: `{{ $l := list 1 }}{{ range until 20 }}{{ $l = concat $l $l }}{{ end }}`, wantErr: "concat: the list would exceed 100000 elements"},
		{text: `{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ toJson $d }}`, wantErr: "toJson: output of "},
		{text: `{{ js "<a>" }}|{{ html "<a>" }}|{{ urlquery "a b" }}|{{ sortAlpha (list "b" "a") }}`, want: `\u003Ca\u003E|&lt;a&gt;|a+b|[a b]`},
		{text: `{{ $l := list }}{{ range until 100 }}{{ $l = append $l (repeat 100000 "x") }}{{ end }}{{ js $l }}`, wantErr: "js: output of at least "},
		{text: `{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ $d }}`, wantErr: "template output exceeds 4194304 bytes"},
		{text: `{{ range until 20 }}{{ $_ := repeat 4000000 "x" }}{{ end }}`,
			wantErr: "repeat: output of 4000000 bytes exceeds the 3108864 bytes left of the limit of 67108864 bytes per evaluation"},
	}
	for _, tc := range tests {
		tmpl, err := compileTemplate("t", tc.text)
		if err != nil {
			t.Fatal(err)
		}
		got, err := renderTemplate(withEvalTimeout(context.Background(), time.Minute), tmpl, "x")
		if tc.text == `{{ .Input.missing }}` {
			got, err = renderTemplate(context.Background(), tmpl, map[string]any{})
		}
		if got != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.HasPrefix(err.Error(), tc.wantErr) {
			t.Errorf("%s = %q, %v; want %q, %q", tc.text, got, err, tc.want, tc.wantErr)
		}
		if tc.wantErr != "" && tc.wantErr != errNoValue.Error() && !strings.Contains(tc.wantErr, "list") && !errors.Is(err, ErrEvalOutput) && !strings.Contains(tc.wantErr, "template output") {
			t.Errorf("%s: %v does not wrap ErrEvalOutput", tc.text, err)
		}
	}
}

// TestTemplateBudgetIsPerRender checks that a render's output budget starts
// afresh: renders that each build close to the per-evaluation limit all pass.
func TestTemplateBudgetIsPerRender(t *testing.T) {
	t.Parallel()
	tmpl, err := compileTemplate("t", `{{ range until 15 }}{{ $_ := repeat 4000000 "x" }}{{ end }}ok`)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if got, err := renderTemplate(withEvalTimeout(context.Background(), time.Minute), tmpl, "x"); got != "ok" || err != nil {
			t.Fatalf("render %d = %q, %v; want ok", i, got, err)
		}
	}
}
