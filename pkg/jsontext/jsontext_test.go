package jsontext

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestAppendStringMatchesEncodingJSON holds AppendString to encoding/json on edge
// cases and random strings of troublesome characters and invalid UTF-8.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	cases := []string{"", "plain", `{"a":"b\\c"}`, `<a href="x">&amp;</a>`, "tab\there\nnl\rcr\bbs\ffeed\x00\x1f\x7f",
		"héllo ✓ \u2028 \u2029 😀", "\xff\xfe ok \xc3", strings.Repeat("x", 2048)}
	rnd := rand.New(rand.NewPCG(3, 4))
	alphabet := []rune{'a', 'Z', '0', '"', '\\', '<', '>', '&', '\n', '\t', 0, 0x1f, 0x7f, 'é', '✓', '\u2028', '\u2029', '😀'}
	for range 2000 {
		b := make([]byte, 0, 32)
		for range rnd.IntN(24) {
			if rnd.IntN(8) == 0 {
				b = append(b, byte(0x80+rnd.IntN(0x80)))
				continue
			}
			b = append(b, string(alphabet[rnd.IntN(len(alphabet))])...)
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendString(%q)\n got %s\nwant %s", s, got, want)
		}
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := `{"seq":"0000001","kind":"load","pad":"` + strings.Repeat("x", 980) + `"}`
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(s)
		}
	})
	b.Run("AppendString", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 2048)
		for b.Loop() {
			buf = AppendString(buf[:0], s)
		}
	})
}

// TestPlainMatchesAppendString holds Plain to AppendString: a string is plain
// exactly when AppendString only quotes it.
func TestPlainMatchesAppendString(t *testing.T) {
	t.Parallel()
	for c := range 256 {
		s := "a" + string(rune(c)) + "z"
		if c >= 0x80 {
			s = "a" + string([]byte{byte(c)}) + "z"
		}
		want := string(AppendString(nil, s)) == `"`+s+`"`
		if Plain(s) != want || Plain([]byte(s)) != want {
			t.Errorf("Plain(%q) = %v, want %v", s, Plain(s), want)
		}
	}
}
