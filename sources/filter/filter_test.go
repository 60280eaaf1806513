package filter

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestFilterMatch(t *testing.T) {
	t.Parallel()
	const webhookData = `{"header":{"Content-Type":["application/json"],"X-Event-Key":["push"]},` +
		`"body":{"action":"opened","n":"42","f":"2.5","s":"x","name":"bob","k-1":3,` +
		`"items":[{"name":"a"},{"name":"b"}]},"metadata":{"team":"infra"}}`
	tests := []struct {
		name    string
		expr    string
		data    string
		want    bool
		wantErr string
	}{
		{name: "nested member true", expr: `body.action == "opened"`, data: webhookData, want: true},
		{name: "nested member false", expr: `body.action == "closed"`, data: webhookData, want: false},
		{name: "missing member is nil", expr: `body.missing == "x"`, data: webhookData, want: false},
		{name: "header with dash by index", expr: `header["Content-Type"][0] == "application/json"`, data: webhookData, want: true},
		{name: "metadata", expr: `metadata.team == "infra" && body.action in ["opened", "edited"]`, data: webhookData, want: true},
		{name: "null body", expr: `body == nil`, data: `{"header":{},"body":null}`, want: true},
		{name: "top-level dash as underscore", expr: `x_y == 1`, data: `{"x-y":1}`, want: true},
		{name: "real underscore key wins over alias", expr: `a_b == 2`, data: `{"a-b":1,"a_b":2}`, want: true},
		{name: "dotted top-level key expands", expr: `a.b == 5 && a.c == "z"`, data: `{"a.b":5,"a.c":"z"}`, want: true},
		{name: "dotted key replaces plain key", expr: `a.b == 2 && a.x == nil`, data: `{"a":{"x":1},"a.b":2}`, want: true},
		{name: "more specific dotted key wins", expr: `a.b.c == 2`, data: `{"a.b":1,"a.b.c":2}`, want: true},
		{name: "dash inside dotted key", expr: `a_b.c == 1`, data: `{"a-b.c":1}`, want: true},
		{name: "asInt of string", expr: `asInt(body.n) == 42`, data: webhookData, want: true},
		{name: "asInt of float", expr: `asInt(3.9) == 3`, data: `{}`, want: true},
		{name: "asFloat of string", expr: `asFloat(body.f) > 2.4`, data: webhookData, want: true},
		{name: "asInt of non-number", expr: `asInt(body.s) == 1`, data: webhookData, wantErr: "asInt"},
		{name: "numbers are floats", expr: `body.k == 1.5`, data: `{"body":{"k":1.5}}`, want: true},
		{name: "toJson", expr: `toJson(body) == "{\"a\":1}"`, data: `{"body":{"a":1}}`, want: true},
		{name: "jsonpath over toJson", expr: `jsonpath(toJson(body), "$.items[0].name") == "a"`, data: webhookData, want: true},
		{name: "jsonpath over value", expr: `jsonpath(body, "$.items[-1].name") == "b"`, data: webhookData, want: true},
		{name: "jsonpath bracket name", expr: `jsonpath(body, "$['k-1']") == 3`, data: webhookData, want: true},
		{name: "jsonpath wildcard", expr: `jsonpath(body, "$.items[*].name") == ["a", "b"]`, data: webhookData, want: true},
		{name: "jsonpath member wildcard", expr: `len(jsonpath(body, "$.items[0].*")) == 1`, data: webhookData, want: true},
		{name: "jsonpath missing", expr: `jsonpath(body, "$.nope") == 1`, data: webhookData, wantErr: "matches nothing"},
		{name: "jsonpath recursive descent unsupported", expr: `jsonpath(body, "$..name") == 1`, data: webhookData, wantErr: "not supported"},
		{name: "jsonpath without root", expr: `jsonpath(body, "items") == 1`, data: webhookData, wantErr: "must start with $"},
		{name: "sprig function", expr: `sprig.upper(body.name) == "BOB"`, data: webhookData, want: true},
		{name: "sprig env is removed", expr: `sprig.env("HOME") != ""`, data: webhookData, wantErr: "evaluating"},
		{name: "regex operator", expr: `body.name matches "^b.b$"`, data: webhookData, want: true},
		{name: "non-bool result", expr: `body.action`, data: webhookData, wantErr: "not bool"},
		{name: "data not an object", expr: `true`, data: `[1,2]`, wantErr: "decoding event data"},
		{name: "data not JSON", expr: `true`, data: `hello`, wantErr: "decoding event data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := Compile(tc.expr)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.expr, err)
			}
			got, err := f.Match([]byte(tc.data))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Match = %v, %v; want error containing %q", got, err, tc.wantErr)
				}
				if got {
					t.Fatalf("Match = true with error %v; want false", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tc.want {
				t.Fatalf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{"", "   ", `body.action ==`, `(a`, `1 +* 2`} {
		t.Run(fmt.Sprintf("%q", expr), func(t *testing.T) {
			t.Parallel()
			if f, err := Compile(expr); err == nil {
				t.Fatalf("Compile(%q) = %v, want error", expr, f)
			}
		})
	}
}

func TestFilterConcurrentUse(t *testing.T) {
	t.Parallel()
	f, err := Compile(`body.n > 10 && sprig.lower(body.s) == "x"`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := fmt.Sprintf(`{"body":{"n":%d,"s":"X"}}`, i)
			got, err := f.Match([]byte(data))
			if err != nil {
				errs <- err
				return
			}
			if got != (i > 10) {
				errs <- fmt.Errorf("n=%d: got %v", i, got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkFilterMatch(b *testing.B) {
	f, err := Compile(`body.action == "opened" && header["X-Event-Key"][0] == "push"`)
	if err != nil {
		b.Fatal(err)
	}
	data := []byte(`{"header":{"Content-Type":["application/json"],"X-Event-Key":["push"]},"body":{"action":"opened","number":7}}`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := f.Match(data); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
