package webhook

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/jsonlimit"
)

// BenchmarkEventDataNested measures the cost of a hostile 1 MiB body of
// nested `[` at the webhook edge: CPU per request and the process's peak RSS.
func BenchmarkEventDataNested(b *testing.B) {
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"open-1MiB", bytes.Repeat([]byte("["), 1<<20)},
		{"nested-1MiB", append(bytes.Repeat([]byte("["), 1<<19), bytes.Repeat([]byte("]"), 1<<19)...)},
		{"nested-1000", append(bytes.Repeat([]byte("["), 1000), bytes.Repeat([]byte("]"), 1000)...)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/example", bytes.NewReader(tc.body))
				req.Header.Set("Content-Type", "application/json")
				_, _, _ = eventData(req, []byte(`{}`), nil, jsonlimit.DefaultMaxDepth)
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/float64(time.Millisecond), "cpu-ms/op")
			b.ReportMetric(float64(maxRSS())/(1<<20), "peak-rss-MiB")
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.StackSys)/(1<<20), "stack-sys-MiB")
		})
	}
}

// BenchmarkEventDataNestedConcurrent sends 80 hostile 1 MiB bodies at once,
// the load that used to take the process down, and reports the peak RSS.
func BenchmarkEventDataNestedConcurrent(b *testing.B) {
	body := append(bytes.Repeat([]byte("["), 1<<19), bytes.Repeat([]byte("]"), 1<<19)...)
	start := cpuTime()
	for b.Loop() {
		var wg sync.WaitGroup
		for range 80 {
			wg.Go(func() {
				req := httptest.NewRequest(http.MethodPost, "/example", bytes.NewReader(body))
				if _, status, _ := eventData(req, []byte(`{}`), nil, jsonlimit.DefaultMaxDepth); status != http.StatusBadRequest {
					b.Errorf("status %d, want 400", status)
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/float64(time.Millisecond), "cpu-ms/op")
	b.ReportMetric(float64(maxRSS())/(1<<20), "peak-rss-MiB")
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// maxRSS is the peak resident set size of the process in bytes.
func maxRSS() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss << 10
}
