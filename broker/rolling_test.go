package broker_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/broker/internal/brokertest"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// replicaProc is one data-plane process of a replicated data plane: an
// ingress (its HTTP server) or a dispatcher.
type replicaProc struct {
	cancel context.CancelFunc
	done   chan error
	srv    *httptest.Server // ingress only
	url    atomic.Pointer[string]
}

// TestRollingRestartUnderLoad runs two ingress and two dispatcher replicas on
// a 3-node JetStream cluster and restarts them one at a time, as a rollout
// does, while a sender posts events to whichever ingress answers: every
// event an ingress accepted is delivered.
func TestRollingRestartUnderLoad(t *testing.T) {
	t.Parallel()
	cl := natsdtest.RunCluster(t, 3)
	sink := brokertest.NewSink(t, nil)
	bs, ts := brokers("b"), []*eventingv1.Trigger{newTrigger("t", "b", sink.URL)}

	start := func(name string, ingressOnly bool) *replicaProc {
		cfg := testConfig()
		cfg.StreamReplicas = 3
		cfg.IngressOnly = ingressOnly
		cfg.DrainTimeout = 5 * time.Second
		dp, err := broker.New(cl.Connect(), cfg, zaptest.NewLogger(t).Named(name))
		if err != nil {
			t.Fatal(err)
		}
		actx, acancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer acancel()
		brokertest.Eventually(t, 30*time.Second, func() error { return dp.Apply(actx, bs, ts) })
		ctx, cancel := context.WithCancel(context.Background())
		p := &replicaProc{cancel: cancel, done: make(chan error, 1)}
		go func() { p.done <- dp.Run(ctx) }()
		if ingressOnly {
			p.srv = httptest.NewServer(dp.Ingress())
			u := p.srv.URL + "/default/b"
			p.url.Store(&u)
		}
		return p
	}
	stop := func(p *replicaProc) {
		if p.srv != nil {
			p.url.Store(nil)
			p.srv.Close()
		}
		p.cancel()
		if err := <-p.done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	var mu sync.Mutex
	procs := map[string]*replicaProc{
		"ingress-0": start("ingress-0", true), "ingress-1": start("ingress-1", true),
		"dispatcher-0": start("dispatcher-0", false), "dispatcher-1": start("dispatcher-1", false),
	}
	t.Cleanup(func() {
		for _, p := range procs {
			stop(p)
		}
	})
	ingressURLs := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var urls []string
		for _, name := range []string{"ingress-0", "ingress-1"} {
			if u := procs[name].url.Load(); u != nil {
				urls = append(urls, *u)
			}
		}
		return urls
	}

	var (
		accepted sync.Map
		count    atomic.Int64
		sending  = make(chan struct{})
		sent     sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for s := range 4 {
		sent.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-sending:
					return
				default:
				}
				id := fmt.Sprintf("s%d-%d", s, i)
				for try := 0; try < 200; try++ {
					urls := ingressURLs()
					if len(urls) == 0 {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					code, err := brokertest.Post(context.Background(), client, urls[(i+try)%len(urls)], brokertest.NewEvent(id, "t"))
					if err == nil && code == http.StatusAccepted {
						accepted.Store(id, true)
						count.Add(1)
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	for _, name := range []string{"ingress-0", "dispatcher-0", "ingress-1", "dispatcher-1"} {
		time.Sleep(500 * time.Millisecond)
		mu.Lock()
		old := procs[name]
		mu.Unlock()
		stop(old)
		fresh := start(name, old.srv != nil)
		mu.Lock()
		procs[name] = fresh
		mu.Unlock()
	}
	time.Sleep(500 * time.Millisecond)
	close(sending)
	sent.Wait()

	n := int(count.Load())
	var ids []string
	accepted.Range(func(k, _ any) bool {
		ids = append(ids, k.(string))
		return true
	})
	waitDelivered(t, sink, ids, 60*time.Second, "across the rolling restart")
	dups := sink.Count() - len(sink.IDs())
	t.Logf("rolling restart of 2 ingresses and 2 dispatchers under load: %d events accepted, all delivered, %d delivered again under the same id", n, dups)
	if n < 100 {
		t.Errorf("only %d events accepted: the test put no load on the restarts", n)
	}
}
