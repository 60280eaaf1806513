package sensor

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
)

// BenchmarkDataTemplateDeep measures a dataTemplate that prints a 1 MiB
// payload nested depth levels: CPU per resolution. Within the nesting limit
// the render runs (and stops at the evaluation time limit); beyond it the
// data is refused after one linear check.
func BenchmarkDataTemplateDeep(b *testing.B) {
	for _, depth := range []int{900, 9000} {
		var sb strings.Builder
		level := `{"a":[` + strings.Repeat(`"xxxxxxxxxx",`, (1<<20)/depth/13) + `1],"b":`
		for range depth {
			sb.WriteString(level)
		}
		sb.WriteString("1" + strings.Repeat("}", depth))
		events := map[string]*event.Event{"d": webhookEvent("1", `{}`, sb.String())}
		src := &v1alpha1.TriggerParameterSource{DependencyName: "d", DataTemplate: "{{ .Input.body }}"}
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			b.SetBytes(int64(sb.Len()))
			start := benchCPU()
			for b.Loop() {
				_, _, _, _ = resolveParameter(src, events)
			}
			b.ReportMetric(float64(benchCPU()-start)/float64(b.N)/float64(time.Millisecond), "cpu-ms/op")
		})
	}
}
