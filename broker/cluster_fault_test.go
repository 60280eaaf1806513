package broker_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/broker/internal/brokertest"
	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// resumeBound is how soon deliveries must resume after the stream leader is
// killed: a new leader is elected within a few seconds.
const resumeBound = 10 * time.Second

// timedSink records when each delivery arrived.
type timedSink struct {
	*brokertest.Sink
	mu sync.Mutex
	at []time.Time
}

func newTimedSink(t *testing.T) *timedSink {
	s := &timedSink{}
	s.Sink = brokertest.NewSink(t, func(w http.ResponseWriter, _ int, _ *brokertest.Request) {
		s.mu.Lock()
		s.at = append(s.at, time.Now())
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	return s
}

// waitDelivered waits until sink got every event of ids, or fails the test
// naming how many never arrived (and the first of them) within timeout.
func waitDelivered(t *testing.T, sink *brokertest.Sink, ids []string, timeout time.Duration, when string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := sink.IDs()
		var missing []string
		for _, id := range ids {
			if got[id] == 0 {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			slices.Sort(missing)
			t.Fatalf("%d of %d accepted events never delivered %s: %v", len(missing), len(ids), when, missing[:min(len(missing), 20)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// longestGapAfter is the longest time without a delivery from since to the
// last delivery.
func (s *timedSink) longestGapAfter(since time.Time) time.Duration {
	s.mu.Lock()
	at := slices.Clone(s.at)
	s.mu.Unlock()
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	gap, prev := time.Duration(0), since
	for _, a := range at {
		if a.Before(since) {
			continue
		}
		gap = max(gap, a.Sub(prev))
		prev = a
	}
	return gap
}

// TestStreamLeaderKilledMidBurst runs the data plane on a 3-node JetStream
// cluster with streams of 3 replicas, kills the node that leads the broker's
// stream in the middle of a burst, and checks that every event the ingress
// accepted is delivered and that deliveries resume within resumeBound. A
// sender retries an event the ingress refused (503 or 504), as a source does.
func TestStreamLeaderKilledMidBurst(t *testing.T) {
	t.Parallel()
	cl := natsdtest.RunCluster(t, 3)
	cfg := testConfig()
	cfg.StreamReplicas = 3
	dp, err := broker.New(cl.Connect(), cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ingress := httptest.NewServer(dp.Ingress())
	t.Cleanup(ingress.Close)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- dp.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	sink := newTimedSink(t)
	actx, acancel := context.WithTimeout(ctx, 30*time.Second)
	defer acancel()
	brokertest.Eventually(t, 30*time.Second, func() error {
		return dp.Apply(actx, brokers("b"), []*eventingv1.Trigger{newTrigger("t", "b", sink.URL)})
	})

	js, err := jetstream.New(cl.Connect())
	if err != nil {
		t.Fatal(err)
	}
	leaderOf := func() string {
		s, err := js.Stream(ctx, bus.StreamName("default", "b"))
		if err != nil || s.CachedInfo().Cluster == nil {
			return ""
		}
		return s.CachedInfo().Cluster.Leader
	}
	var leader string
	brokertest.Eventually(t, 30*time.Second, func() error {
		if leader = leaderOf(); leader == "" {
			return fmt.Errorf("the broker stream has no leader yet")
		}
		return nil
	})

	const n, senders = 1000, 8
	url := ingress.URL + "/default/b"
	client := &http.Client{Timeout: 30 * time.Second}
	var (
		mu       sync.Mutex
		accepted = map[string]bool{}
		refused  int
		acceptAt []time.Time
		sent     sync.WaitGroup
		killedAt time.Time
		kill     sync.Once
	)
	next := make(chan int)
	for range senders {
		sent.Go(func() {
			for i := range next {
				id := fmt.Sprint("e", i)
				for try := 0; try < 100; try++ {
					code, err := brokertest.Post(ctx, client, url, brokertest.NewEvent(id, "t"))
					if err == nil && code == http.StatusAccepted {
						mu.Lock()
						accepted[id] = true
						acceptAt = append(acceptAt, time.Now())
						mu.Unlock()
						break
					}
					mu.Lock()
					refused++
					mu.Unlock()
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}
	for i := range n {
		if i == n/2 {
			kill.Do(func() {
				node := cl.Node(leader)
				if node < 0 {
					t.Fatalf("stream leader %q is no running node", leader)
				}
				killedAt = time.Now()
				cl.Stop(node)
			})
		}
		next <- i
	}
	close(next)
	sent.Wait()

	waitDelivered(t, sink.Sink, slices.Collect(maps.Keys(accepted)), 90*time.Second, "after the stream leader "+leader+" was killed")
	gap := sink.longestGapAfter(killedAt)
	slices.SortFunc(acceptAt, func(a, b time.Time) int { return a.Compare(b) })
	acceptGap, prev := time.Duration(0), killedAt
	for _, a := range acceptAt {
		if a.After(killedAt) {
			acceptGap = max(acceptGap, a.Sub(prev))
			prev = a
		}
	}
	t.Logf("longest pause in the ingress's answers after the kill: %s", acceptGap.Round(time.Millisecond))
	t.Logf("killed stream leader %s mid-burst: %d of %d events accepted (%d refusals retried), all delivered (%d deliveries); new leader %s; longest pause in deliveries after the kill %s",
		leader, len(accepted), n, refused, sink.Count(), leaderOf(), gap.Round(time.Millisecond))
	if len(accepted) != n {
		t.Errorf("%d of %d events accepted after 100 tries each", len(accepted), n)
	}
	if gap > resumeBound {
		t.Errorf("deliveries paused %s after the stream leader was killed, want them back within %s", gap, resumeBound)
	}
}
