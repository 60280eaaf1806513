package broker_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/flintevents/flint/broker/internal/brokertest"
	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// accepted records the ids the ingress answered 202 for.
type accepted struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (a *accepted) add(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ids[id] = true
}

func (a *accepted) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ids)
}

// missing lists accepted ids the sink has not (fully) received.
func (a *accepted) missing(got map[string]int) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for id := range a.ids {
		if got[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// sendUntilAccepted posts like a well-behaved source: it retries a 5xx or a failed
// connection until the ingress answers 202, counting the failures.
func sendUntilAccepted(ctx context.Context, url, id string, failures *atomic.Int64) error {
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		code, err := brokertest.Post(ctx, client, url, brokertest.NewEvent(id, "t"))
		if err == nil && code == http.StatusAccepted {
			return nil
		}
		failures.Add(1)
		if err == nil && code < 500 {
			return fmt.Errorf("posting %s: status %d", id, code)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("posting %s: %w (last status %d, error %v)", id, ctx.Err(), code, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestNATSServerRestartMidStream(t *testing.T) {
	t.Parallel()
	srv := natsdtest.Run(t)
	cfg := testConfig()
	cfg.PublishTimeout = time.Second
	p := startPlaneOn(t, srv, cfg, zaptest.NewLogger(t))
	sink := brokertest.NewSink(t, nil)
	p.apply(t, brokers("b"), newTrigger("t", "b", sink.URL))

	acc := &accepted{ids: map[string]bool{}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const senders = 4
	var wg sync.WaitGroup
	var failures atomic.Int64
	var stop atomic.Bool
	errs := make(chan error, senders)
	for g := range senders {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				id := fmt.Sprintf("r-%d-%d", g, i)
				if err := sendUntilAccepted(ctx, p.brokerURL("b"), id, &failures); err != nil {
					errs <- err
					return
				}
				acc.add(id)
			}
		})
	}
	atLeast := func(n int) func() error {
		return func() error {
			if got := acc.len(); got < n {
				return fmt.Errorf("%d events accepted, waiting for %d", got, n)
			}
			return nil
		}
	}
	brokertest.Eventually(t, waitFor, atLeast(100))
	srv.Shutdown()
	// Restart only once the outage was visible to the senders (503s).
	brokertest.Eventually(t, waitFor, func() error {
		if failures.Load() == 0 {
			return fmt.Errorf("no sender saw the outage yet")
		}
		return nil
	})
	natsdtest.RunWith(t, natsd.Options{StoreDir: srv.StoreDir(), Port: srv.Port()})
	brokertest.Eventually(t, waitFor, atLeast(acc.len()+100))
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d events accepted; senders retried %d times during the outage", acc.len(), failures.Load())
	brokertest.Eventually(t, 30*time.Second, func() error {
		if m := acc.missing(sink.IDs()); len(m) > 0 {
			return fmt.Errorf("%d accepted events not delivered, e.g. %v", len(m), m[0])
		}
		return nil
	})
	p.stop(t)
}

func TestDispatcherRestartDeliversEverything(t *testing.T) {
	t.Parallel()
	srv := natsdtest.Run(t)
	cfg := testConfig()
	cfg.Concurrency = 4
	first := startPlaneOn(t, srv, cfg, zaptest.NewLogger(t))
	sink := brokertest.NewSink(t, func(w http.ResponseWriter, n int, r *brokertest.Request) {
		time.Sleep(20 * time.Millisecond)
	})
	trigger := newTrigger("t", "b", sink.URL)
	first.apply(t, brokers("b"), trigger)
	const n = 80
	for i := range n {
		brokertest.MustPost(t, first.brokerURL("b"), brokertest.NewEvent(fmt.Sprint("d", i), "t"), http.StatusAccepted)
	}
	sink.WaitCount(t, waitFor, 10)
	first.stop(t) // graceful: in-flight deliveries finish, fetched ones are handed back
	stoppedAt := sink.Count()
	if stoppedAt >= n {
		t.Fatalf("all %d events delivered before the restart; the test proves nothing", n)
	}

	second := startPlaneOn(t, srv, cfg, zaptest.NewLogger(t))
	second.apply(t, brokers("b"), trigger)
	brokertest.Eventually(t, waitFor, func() error {
		ids := sink.IDs()
		for i := range n {
			if ids[fmt.Sprint("d", i)] == 0 {
				return fmt.Errorf("event d%d not delivered (%d of %d delivered before the restart)", i, stoppedAt, n)
			}
		}
		return nil
	})
}

func TestCrashedDispatcherRedeliversUnacked(t *testing.T) {
	t.Parallel()
	srv := natsdtest.Run(t)
	cfg := testConfig()
	cfg.Concurrency = 3
	cfg.DefaultTimeout = time.Second
	cfg.AckWait = 2 * time.Second
	cfg.DrainTimeout = 200 * time.Millisecond
	release := make(chan struct{})
	var mu sync.Mutex
	completed := map[string]int{}
	sink := brokertest.NewSink(t, func(w http.ResponseWriter, n int, r *brokertest.Request) {
		if n <= 3 { // the crashed dispatcher's deliveries never complete
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		completed[r.Event.ID()]++
		mu.Unlock()
	})
	t.Cleanup(func() { close(release) })

	crashed := startPlaneOn(t, srv, cfg, zaptest.NewLogger(t))
	trigger := newTrigger("t", "b", sink.URL)
	crashed.apply(t, brokers("b"), trigger)
	const n = 20
	for i := range n {
		brokertest.MustPost(t, crashed.brokerURL("b"), brokertest.NewEvent(fmt.Sprint("x", i), "t"), http.StatusAccepted)
	}
	sink.WaitCount(t, waitFor, 3)
	crashed.nc.Close() // crash: nothing is acked or handed back
	crashed.stop(t)

	survivor := startPlaneOn(t, srv, cfg, zaptest.NewLogger(t))
	survivor.apply(t, brokers("b"), trigger)
	brokertest.Eventually(t, waitFor, func() error {
		mu.Lock()
		defer mu.Unlock()
		for i := range n {
			if completed[fmt.Sprint("x", i)] == 0 {
				return fmt.Errorf("event x%d not delivered; %d of %d completed", i, len(completed), n)
			}
		}
		return nil
	})
}

func TestDeletedConsumerIsRecreated(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	sink := brokertest.NewSink(t, nil)
	p.apply(t, brokers("b"), newTrigger("t", "b", sink.URL))
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("before", "t"), http.StatusAccepted)
	sink.WaitCount(t, waitFor, 1)

	if err := p.js.DeleteConsumer(context.Background(), bus.StreamName("default", "b"), bus.ConsumerName("default", "t", "")); err != nil {
		t.Fatal(err)
	}
	// A re-created consumer starts with new events; keep sending until one arrives.
	k := 0
	brokertest.Eventually(t, 30*time.Second, func() error {
		k++
		brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent(fmt.Sprint("after-", k), "t"), http.StatusAccepted)
		for id := range sink.IDs() {
			if id != "before" {
				return nil
			}
		}
		return fmt.Errorf("no event delivered after deleting the consumer (%d sent)", k)
	})
}

func TestServerThatLostItsStoreIsReprovisioned(t *testing.T) {
	t.Parallel()
	srv := natsdtest.Run(t)
	cfg := testConfig()
	cfg.PublishTimeout = 500 * time.Millisecond
	p := startPlaneOn(t, srv, cfg, zaptest.NewLogger(t))
	sink := brokertest.NewSink(t, nil)
	p.apply(t, brokers("b"), newTrigger("t", "b", sink.URL))
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("before", "t"), http.StatusAccepted)
	sink.WaitCount(t, waitFor, 1)

	srv.Shutdown()
	natsdtest.RunWith(t, natsd.Options{Port: srv.Port()}) // empty store
	k := 0
	brokertest.Eventually(t, 30*time.Second, func() error {
		k++
		code, err := brokertest.Post(context.Background(), http.DefaultClient, p.brokerURL("b"), brokertest.NewEvent(fmt.Sprint("after-", k), "t"))
		if err != nil {
			return err
		}
		for id := range sink.IDs() {
			if id != "before" {
				return nil
			}
		}
		return fmt.Errorf("no event delivered since the restart (%d sent, last status %d)", k, code)
	})
	p.stop(t)
}
