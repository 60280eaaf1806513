package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/freeport"
	_ "github.com/flintevents/flint/sources/builtin"
	_ "github.com/flintevents/flint/triggers/builtin"
)

// pipeline is a running webhook → broker → sensor → HTTP trigger chain, all
// in this process over loopback, with a sink that timestamps arrivals.
type pipeline struct {
	hook      string
	delivered atomic.Int64
	mu        sync.Mutex
	latencies []time.Duration
}

func startPipeline(b *testing.B) *pipeline {
	b.Helper()
	p := &pipeline{}
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			TS string `json:"ts"`
		}
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &body)
		if ns, err := strconv.ParseInt(body.TS, 10, 64); err == nil {
			d := time.Since(time.Unix(0, ns))
			p.mu.Lock()
			p.latencies = append(p.latencies, d)
			p.mu.Unlock()
		}
		p.delivered.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(sink.Close)

	port := freeport.Port(b)

	var es v1alpha1.EventSource
	must(b, yaml.UnmarshalStrict([]byte(fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: bench}
spec:
  webhook:
    load: {port: "%d", endpoint: /load, method: POST}
`, port)), &es))
	var s v1alpha1.Sensor
	must(b, yaml.UnmarshalStrict([]byte(fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata: {name: bench}
spec:
  dependencies:
    - name: load
      eventSourceName: bench
      eventName: load
      filters:
        data:
          - {path: body.kind, type: string, value: ["^load$"]}
  triggers:
    - template:
        name: sink
        http:
          url: %s
          payload:
            - src: {dependencyName: load, dataKey: body.ts}
              dest: ts
            - src: {dependencyName: load, dataKey: body.pad}
              dest: pad
      policy:
        status: {allow: [200]}
`, sink.URL)), &s))

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- dev.Run(ctx, dev.Objects{EventSources: []*v1alpha1.EventSource{&es}, Sensors: []*v1alpha1.Sensor{&s}},
			dev.Options{BrokerAddr: "127.0.0.1:0", Ready: func(dev.Endpoints) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		b.Fatalf("dev.Run: %v", err)
	case <-time.After(30 * time.Second):
		b.Fatal("pipeline not ready")
	}
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("dev.Run: %v", err)
		}
	})
	p.hook = fmt.Sprintf("http://127.0.0.1:%d/load", port)
	waitUp(b, p.hook)
	return p
}

func waitUp(b *testing.B, url string) {
	for i := 0; i < 200; i++ {
		resp, err := http.Get(strings.TrimSuffix(url, "/load") + "/health")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatalf("webhook %s not up", url)
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// send posts one 1 KiB webhook body stamped with the current time.
func (p *pipeline) send(client *http.Client, pad string) error {
	body := `{"kind":"load","ts":"` + strconv.FormatInt(time.Now().UnixNano(), 10) + `","pad":"` + pad + `"}`
	resp, err := client.Post(p.hook, "application/json", bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("webhook answered %d", resp.StatusCode)
	}
	return nil
}

func (p *pipeline) waitDelivered(b *testing.B, n int64) {
	deadline := time.Now().Add(2 * time.Minute)
	for p.delivered.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("delivered %d of %d", p.delivered.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func (p *pipeline) percentiles() (p50, p99 time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.latencies) == 0 {
		return 0, 0
	}
	sort.Slice(p.latencies, func(i, j int) bool { return p.latencies[i] < p.latencies[j] })
	return p.latencies[len(p.latencies)/2], p.latencies[len(p.latencies)*99/100]
}

func (p *pipeline) reset() {
	p.mu.Lock()
	p.latencies = p.latencies[:0]
	p.mu.Unlock()
	p.delivered.Store(0)
}

func newClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}}
}

// BenchmarkPipeline measures webhook → broker → sensor → HTTP trigger on
// loopback: saturated throughput with concurrent senders, and end-to-end
// latency percentiles at a paced 1,000 events/s.
func BenchmarkPipeline(b *testing.B) {
	pad := strings.Repeat("x", 960) // ~1 KiB webhook body
	b.Run("throughput", func(b *testing.B) {
		p := startPipeline(b)
		const senders = 64
		client := newClient(senders)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(b.N) {
					if err := p.send(client, pad); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		p.waitDelivered(b, int64(b.N))
		elapsed := time.Since(start)
		b.StopTimer()
		p50, p99 := p.percentiles()
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	})
	b.Run("paced-1000/s", func(b *testing.B) {
		p := startPipeline(b)
		client := newClient(64)
		// Warm the connections and consumers before measuring.
		for range 100 {
			must(b, p.send(client, pad))
		}
		p.waitDelivered(b, 100)
		p.reset()
		const rate = 1000
		n := max(b.N, 2000)
		b.ResetTimer()
		tick := time.NewTicker(time.Second / rate)
		defer tick.Stop()
		var wg sync.WaitGroup
		for range n {
			<-tick.C
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.send(client, pad); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		p.waitDelivered(b, int64(n))
		b.StopTimer()
		p50, p99 := p.percentiles()
		b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	})
}
