package jsontext

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestAppendBytesMatchesEncodingJSON holds AppendBytes to encoding/json for
// nil, empty and random payloads of every length up to a few vector widths.
func TestAppendBytesMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	rnd := rand.New(rand.NewPCG(5, 6))
	cases := [][]byte{nil, {}}
	for n := 1; n < 300; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.IntN(256))
		}
		cases = append(cases, b)
	}
	for _, b := range cases {
		want, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, prefix := range [][]byte{nil, []byte(`{"body":`)} {
			got := AppendBytes(append([]byte(nil), prefix...), b)
			if string(got) != string(prefix)+string(want) {
				t.Fatalf("AppendBytes(%d bytes)\n got %s\nwant %s%s", len(b), got, prefix, want)
			}
			if n := len(got) - len(prefix); n != BytesLen(b) {
				t.Fatalf("BytesLen(%d bytes) = %d, AppendBytes wrote %d", len(b), BytesLen(b), n)
			}
		}
	}
}

func BenchmarkAppendBytes(b *testing.B) {
	payload := make([]byte, 1024)
	for i := range payload {
		payload[i] = byte(i)
	}
	b.Run("encoding/json", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			_, _ = json.Marshal(payload)
		}
	})
	b.Run("AppendBytes", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		buf := make([]byte, 0, 2048)
		for b.Loop() {
			buf = AppendBytes(buf[:0], payload)
		}
	})
}
