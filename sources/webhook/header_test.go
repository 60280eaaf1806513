package webhook

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestAppendHeaderJSONMatchesEncodingJSON holds the header encoder to what
// encoding/json writes: names sorted, nil and empty lists, several values;
// the escaping of each string is pkg/jsontext's, tested there.
func TestAppendHeaderJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	cases := []http.Header{
		nil,
		{},
		{"Content-Type": {"application/json"}, "X-Empty": {}, "X-Nil": nil},
		{"X-Html": {`<a href="x">&amp;</a>`}, "X-Ctl": {"tab\there\nnl\rcr\bbs\ffeed\x00\x1f\x7f"}},
		{"X-Utf8": {"héllo wörld ✓ \u2028 \u2029 😀"}, "X-Bad": {"\xff\xfe ok \xc3"}},
		{"B": {"2", "1"}, "A": {"x"}, "a": {"lower"}},
	}
	for _, h := range cases {
		want, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendHeaderJSON(nil, h); string(got) != string(want) {
			t.Fatalf("appendHeaderJSON(%q)\n got %s\nwant %s", h, got, want)
		}
	}
}

func BenchmarkHeaderJSON(b *testing.B) {
	h := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Go-http-client/1.1"},
		"Accept-Encoding": {"gzip"}, "Content-Length": {"1024"}, "X-Request-Id": {"3f2a9c1e-77aa-4d1b-9b0e-5c1d2e3f4a5b"}}
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(h)
		}
	})
	b.Run("appendHeaderJSON", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		for b.Loop() {
			buf = appendHeaderJSON(buf[:0], h)
		}
	})
}
