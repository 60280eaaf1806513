package broker_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/flintevents/flint/broker/internal/brokertest"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// countingTransport counts the deliveries one data plane makes.
type countingTransport struct {
	n    *atomic.Int64
	next http.RoundTripper
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// TestDispatchersShareTriggers runs two data planes on one JetStream, as two
// replicas of the dispatcher in a cluster: they share each trigger's durable
// consumer, so both deliver, and every event reaches the subscriber once.
func TestDispatchersShareTriggers(t *testing.T) {
	t.Parallel()
	srv := natsdtest.Run(t)
	// A subscriber that takes a moment, so both replicas have work in flight.
	sink := brokertest.NewSink(t, func(w http.ResponseWriter, _ int, _ *brokertest.Request) {
		time.Sleep(2 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	})
	var delivered [2]atomic.Int64
	planes := make([]*plane, 2)
	for i := range planes {
		cfg := testConfig()
		cfg.Transport = countingTransport{n: &delivered[i], next: http.DefaultTransport}
		planes[i] = startPlaneOn(t, srv, cfg, zaptest.NewLogger(t).Named(fmt.Sprint("replica-", i)))
		planes[i].apply(t, brokers("b"), newTrigger("t", "b", sink.URL))
	}
	const n = 400
	for i := range n {
		brokertest.MustPost(t, planes[0].brokerURL("b"), brokertest.NewEvent(fmt.Sprint("e", i), "t"), http.StatusAccepted)
	}
	sink.WaitCount(t, waitFor, n)
	planes[0].waitIdle(t, "b", "t")
	ids := sink.IDs()
	if len(ids) != n {
		t.Errorf("the subscriber got %d distinct events, want %d", len(ids), n)
	}
	for id, c := range ids {
		if c != 1 {
			t.Errorf("event %s delivered %d times, want once", id, c)
		}
	}
	a, b := delivered[0].Load(), delivered[1].Load()
	t.Logf("replica 0 delivered %d, replica 1 delivered %d", a, b)
	if a == 0 || b == 0 {
		t.Errorf("one replica delivered everything (%d and %d): the trigger's consumer is not shared", a, b)
	}
}
