package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
	pkgduckv1 "knative.dev/pkg/apis/duck/v1"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// benchEventSize is the data size of every benchmark event.
const benchEventSize = 1024

// benchSentHeader carries the send time through the broker as a CloudEvents extension.
const benchSentHeader = "Ce-Benchsent"

var benchPayload = bytes.Repeat([]byte("x"), benchEventSize)

// brokerSink counts deliveries and records ingress→sink latency.
type brokerSink struct {
	*httptest.Server
	want      int64
	got       atomic.Int64
	done      chan struct{}
	mu        sync.Mutex
	latencies []time.Duration
}

func newBrokerSink(b *testing.B, want int) *brokerSink {
	b.Helper()
	s := &brokerSink{want: int64(want), done: make(chan struct{}), latencies: make([]time.Duration, 0, want)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	b.Cleanup(s.Close)
	return s
}

func (s *brokerSink) serve(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	if sent, err := strconv.ParseInt(r.Header.Get(benchSentHeader), 10, 64); err == nil {
		lat := time.Duration(time.Now().UnixNano() - sent)
		s.mu.Lock()
		s.latencies = append(s.latencies, lat)
		s.mu.Unlock()
	}
	if s.got.Add(1) == s.want {
		close(s.done)
	}
	w.WriteHeader(http.StatusOK)
}

// wait blocks until every expected delivery arrived.
func (s *brokerSink) wait(b *testing.B, timeout time.Duration) {
	b.Helper()
	select {
	case <-s.done:
	case <-time.After(timeout):
		b.Fatalf("sink received %d of %d deliveries after %s", s.got.Load(), s.want, timeout)
	}
}

func (s *brokerSink) reportLatency(b *testing.B) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reportLatencies(b, s.latencies)
}

// reportLatencies reports the median and the 99th percentile of latencies, which it
// sorts; none, nothing.
func reportLatencies(b *testing.B, latencies []time.Duration) {
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(float64(len(latencies)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// brokerRig is a data plane with one broker over an embedded JetStream reached
// in-process, as flint dev runs it, with its ingress on a loopback HTTP server.
type brokerRig struct {
	ingressURL string
	run        func()
}

// newBrokerRig applies triggers (all to sinkURL); the dispatcher starts with run.
func newBrokerRig(b *testing.B, triggers int, sinkURL string) *brokerRig {
	b.Helper()
	// Port 0: in-process connections only, as flint dev runs it.
	nc := natsdtest.ConnectTo(b, natsdtest.RunWith(b, natsd.Options{}))
	dp, err := broker.New(nc, broker.Config{}, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	brokers := []*eventingv1.Broker{{ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: "default"}}}
	var ts []*eventingv1.Trigger
	if triggers > 0 {
		uri, err := apis.ParseURL(sinkURL)
		if err != nil {
			b.Fatal(err)
		}
		for i := range triggers {
			ts = append(ts, &eventingv1.Trigger{
				ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: fmt.Sprint("t", i)},
				Spec:       eventingv1.TriggerSpec{Broker: "default", Subscriber: pkgduckv1.Destination{URI: uri}},
			})
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := dp.Apply(ctx, brokers, ts); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	var once sync.Once
	r := &brokerRig{run: func() {
		once.Do(func() {
			go func() {
				defer close(done)
				_ = dp.Run(ctx)
			}()
		})
	}}
	b.Cleanup(func() {
		cancel()
		r.run() // make sure done gets closed
		<-done
	})
	hs := httptest.NewServer(dp.Ingress())
	b.Cleanup(hs.Close)
	r.ingressURL = hs.URL + "/bench/default"
	return r
}

// eventSender posts binary-mode events over keep-alive connections.
type eventSender struct {
	client *http.Client
	url    string
	want   int
	errors atomic.Int64
}

func newEventSender(url string, conns, wantStatus int) *eventSender {
	return &eventSender{
		url:  url,
		want: wantStatus,
		client: &http.Client{Transport: &http.Transport{
			MaxIdleConns: conns, MaxIdleConnsPerHost: conns, DisableCompression: true, IdleConnTimeout: time.Minute,
		}},
	}
}

func (s *eventSender) send(id string) {
	req, err := http.NewRequest(http.MethodPost, s.url, bytes.NewReader(benchPayload))
	if err != nil {
		s.errors.Add(1)
		return
	}
	req.Header = http.Header{
		"Ce-Specversion": {"1.0"},
		"Ce-Id":          {id},
		"Ce-Source":      {"/bench"},
		"Ce-Type":        {"bench"},
		"Content-Type":   {"application/octet-stream"},
		benchSentHeader:  {strconv.FormatInt(time.Now().UnixNano(), 10)},
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.errors.Add(1)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != s.want {
		s.errors.Add(1)
	}
}

// fire sends n events from workers goroutines; rate > 0 paces the total to rate events/s.
func (s *eventSender) fire(b *testing.B, n, workers int, rate float64, prefix string) {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if rate > 0 {
					due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
				s.send(prefix + strconv.FormatInt(i, 10))
			}
		})
	}
	wg.Wait()
	if e := s.errors.Load(); e > 0 {
		b.Fatalf("%d of %d sends failed", e, n)
	}
}

// processCPU is the CPU time (user + system) this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs f and reports its rate in events/s and CPU µs per event.
func measure(b *testing.B, events int, f func()) float64 {
	b.Helper()
	b.ResetTimer()
	start, cpu := time.Now(), processCPU()
	f()
	elapsed, used := time.Since(start), processCPU()-cpu
	b.StopTimer()
	rate := float64(events) / elapsed.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(float64(used.Microseconds())/float64(events), "cpu-us/event")
	return rate
}
