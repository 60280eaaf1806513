package ingress

import (
	"fmt"
	"strings"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// BenchmarkCheckDataDepth is what the nesting check adds to every event: JSON
// data of records ({"id":1,"tags":["a","b"]}), which has enough brackets to be
// scanned beyond 1,000 bytes, and text, which is only counted.
func BenchmarkCheckDataDepth(b *testing.B) {
	for _, n := range []int{1 << 10, 64 << 10, 1 << 20} {
		records := `[` + strings.Repeat(`{"id":1,"tags":["a","b"]},`, n/26) + `{}]`
		for _, kind := range []struct{ name, data string }{{"json", records}, {"text", strings.Repeat("x", n)}} {
			ev := cloudevents.NewEvent()
			if err := ev.SetData(cloudevents.ApplicationJSON, []byte(kind.data)); err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/size=%d", kind.name, n), func(b *testing.B) {
				b.SetBytes(int64(len(kind.data)))
				b.ReportAllocs()
				for b.Loop() {
					if err := checkDataDepth(&ev); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
