package jsonlimit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/flintevents/flint/pkg/jsonlimit"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	deepObj := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	tests := []struct {
		name    string
		in      string
		max     int
		wantErr error
	}{
		{name: "object", in: ` {"a": [1, -2.5e3, "x\"y\u00e9", true, false, null], "b": {}} `},
		{name: "scalar", in: `"s"`},
		{name: "number", in: `0`},
		{name: "empty array", in: `[ ]`},
		{name: "at the default limit", in: deep(1000)},
		{name: "over the default limit", in: deep(1001), wantErr: jsonlimit.ErrTooDeep},
		{name: "objects over the limit", in: deepObj(1001), wantErr: jsonlimit.ErrTooDeep},
		{name: "custom limit", in: deep(3), max: 2, wantErr: jsonlimit.ErrTooDeep},
		{name: "within custom limit", in: deep(2), max: 2},
		{name: "a megabyte of brackets", in: strings.Repeat("[", 1<<20), wantErr: jsonlimit.ErrTooDeep},
		{name: "unclosed", in: `[1, 2`, wantErr: jsonlimit.ErrSyntax},
		{name: "empty", in: ``, wantErr: jsonlimit.ErrSyntax},
		{name: "trailing data", in: `{} {}`, wantErr: jsonlimit.ErrSyntax},
		{name: "trailing comma", in: `[1,]`, wantErr: jsonlimit.ErrSyntax},
		{name: "leading zero", in: `01`, wantErr: jsonlimit.ErrSyntax},
		{name: "bad escape", in: `"\x"`, wantErr: jsonlimit.ErrSyntax},
		{name: "control character", in: "\"a\tb\"", wantErr: jsonlimit.ErrSyntax},
		{name: "mismatched", in: `[}`, wantErr: jsonlimit.ErrSyntax},
		{name: "key not a string", in: `{1:2}`, wantErr: jsonlimit.ErrSyntax},
		{name: "text", in: `hello`, wantErr: jsonlimit.ErrSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := jsonlimit.Check([]byte(tc.in), tc.max)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Check = %v, want %v", err, tc.wantErr)
			}
			if serr := jsonlimit.CheckString(tc.in, tc.max); fmt.Sprint(serr) != fmt.Sprint(err) {
				t.Errorf("CheckString = %v, Check = %v", serr, err)
			}
		})
	}
}

func TestCheckTooDeepMessage(t *testing.T) {
	t.Parallel()
	err := jsonlimit.Check([]byte(strings.Repeat("[", 5000)), 0)
	want := "JSON nesting too deep: more than 1000 levels of nesting (at byte 1000)"
	if err == nil || err.Error() != want {
		t.Fatalf("Check = %v, want %q", err, want)
	}
}

func TestCompact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		wantErr  error
	}{
		{in: "{ \"a b\" : [ 1 ,\n\t2 ] }", want: `{"a b":[1,2]}`},
		{in: `{"a":"x \" y"}`, want: `{"a":"x \" y"}`},
		{in: `not json`, want: `not json`, wantErr: jsonlimit.ErrSyntax},
		{in: `[ [ [ ] ] ]`, want: `[ [ [ ] ] ]`, wantErr: jsonlimit.ErrTooDeep},
	}
	for _, tc := range tests {
		got, err := jsonlimit.Compact([]byte(tc.in), 2)
		if string(got) != tc.want || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
			t.Errorf("Compact(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// FuzzCheck checks the scanner against encoding/json: both accept the same
// documents (within the nesting limit), and Compact agrees with json.Compact.
func FuzzCheck(f *testing.F) {
	for _, seed := range []string{
		`{}`, ` [ 1 , 2 ] `, `"a b"`, `{"a": "x \" y", "b" : [true, null]}`, `-0.5e+10`, `1E5`,
		`{"k\\": "\\\\" , "n": -1.5e3}`, "\t\n{ \"a\" :\r\n 1 }\n", `"\u00e9 \" \\"`, `[[[[]]]]`,
		`[1,]`, `{"a" 1}`, `01`, `1.`, `-`, `"\u12"`, "\"\x01\"", `tru`, `nul`, `[}`, "\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		err := jsonlimit.Check(in, 64)
		if errors.Is(err, jsonlimit.ErrTooDeep) {
			if jsonlimit.Check(in, 100000) == nil != json.Valid(in) {
				t.Fatalf("Check(%q) without the limit disagrees with json.Valid", in)
			}
			return
		}
		if (err == nil) != json.Valid(in) {
			t.Fatalf("Check(%q) = %v, json.Valid = %t", in, err, json.Valid(in))
		}
		got, cerr := jsonlimit.Compact(bytes.Clone(in), 64)
		if err != nil {
			if cerr == nil || !bytes.Equal(got, in) {
				t.Fatalf("Compact(%q) = %q, %v; want the input unchanged and an error", in, got, cerr)
			}
			return
		}
		var want bytes.Buffer
		if err := json.Compact(&want, in); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("Compact(%q) = %q, want %q", in, got, want.Bytes())
		}
	})
}

// BenchmarkCheck measures the check of a megabyte of nested brackets, which
// fails at the limit, and of a megabyte of ordinary JSON.
func BenchmarkCheck(b *testing.B) {
	var doc bytes.Buffer
	doc.WriteByte('[')
	for doc.Len() < 1<<20 {
		doc.WriteString(`{"id": 12345, "name": "a name", "tags": ["x", "y"], "ok": true},`)
	}
	doc.WriteString(`null]`)
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"nested", bytes.Repeat([]byte("["), 1<<20)},
		{"objects", doc.Bytes()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.in)))
			b.ReportAllocs()
			for b.Loop() {
				_ = jsonlimit.Check(tc.in, 0)
			}
		})
	}
}
