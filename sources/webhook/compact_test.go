package webhook

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tidwall/gjson"
)

// FuzzCompactInPlace checks the body compaction against encoding/json on every
// input both call valid JSON.
func FuzzCompactInPlace(f *testing.F) {
	for _, seed := range []string{
		`{}`, ` [ 1 , 2 ] `, `"a b"`, `{"a": "x \" y", "b" : [true, null]}`,
		`{"k\\": "\\\\" , "n": -1.5e3}`, "\t\n{ \"a\" :\r\n 1 }\n", `"\u00e9 \" \\"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !gjson.ValidBytes(in) || !json.Valid(in) {
			return
		}
		var want bytes.Buffer
		if err := json.Compact(&want, in); err != nil {
			t.Fatal(err)
		}
		b := bytes.Clone(in)
		got := b[:compactInPlace(b)]
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("compactInPlace(%q) = %q, want %q", in, got, want.Bytes())
		}
	})
}
