package broker_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/broker/internal/brokertest"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// BenchmarkReplicas measures delivered events per second through 1, 2 and 3
// data-plane replicas (each an ingress and a dispatcher) on a 3-node
// JetStream cluster with streams of 3 replicas, on loopback, one after the
// other in one run: 32 senders post 1 KiB events round-robin to the
// ingresses, and a subscriber answers 200. It reports the rate and the
// process CPU per event (the servers are in this process too).
func BenchmarkReplicas(b *testing.B) {
	for _, replicas := range []int{1, 2, 3} {
		b.Run(fmt.Sprint(replicas, "-replicas"), func(b *testing.B) {
			cl := natsdtest.RunCluster(b, 3)
			var delivered atomic.Int64
			sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				delivered.Add(1)
			}))
			b.Cleanup(sink.Close)
			bs, ts := brokers("b"), []*eventingv1.Trigger{newTrigger("t", "b", sink.URL)}
			var urls []string
			for range replicas {
				cfg := testConfig()
				cfg.StreamReplicas = 3
				dp, err := broker.New(cl.Connect(), cfg, zap.NewNop())
				if err != nil {
					b.Fatal(err)
				}
				actx, acancel := context.WithTimeout(context.Background(), 30*time.Second)
				brokertest.Eventually(b, 30*time.Second, func() error { return dp.Apply(actx, bs, ts) })
				acancel()
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				go func() { done <- dp.Run(ctx) }()
				b.Cleanup(func() { cancel(); <-done })
				srv := httptest.NewServer(dp.Ingress())
				b.Cleanup(srv.Close)
				urls = append(urls, srv.URL+"/default/b")
			}
			data := make([]byte, 1024)
			for i := range data {
				data[i] = 'a' + byte(i%26)
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.ResetTimer()
			c0, t0 := cpuTime(), time.Now()
			var next atomic.Int64
			var sent sync.WaitGroup
			for range 32 {
				sent.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						ev := brokertest.NewEvent(fmt.Sprint("e", i), "t")
						_ = ev.SetData("application/json", data)
						for {
							code, err := brokertest.Post(context.Background(), client, urls[i%int64(len(urls))], ev)
							if err == nil && code == http.StatusAccepted {
								break
							}
							time.Sleep(10 * time.Millisecond)
						}
					}
				})
			}
			sent.Wait()
			deadline := time.Now().Add(2 * time.Minute)
			for delivered.Load() < int64(b.N) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			wall, cpu := time.Since(t0), cpuTime()-c0
			b.StopTimer()
			n := float64(b.N)
			b.ReportMetric(n/wall.Seconds(), "delivered/s")
			b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/event")
		})
	}
}

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
