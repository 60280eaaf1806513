package broker_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/broker/deadletter"
	"github.com/flintevents/flint/broker/dispatcher"
	"github.com/flintevents/flint/broker/internal/brokertest"
)

// localSub is an in-process subscriber that fails its first `fail` deliveries, with
// an error wrapping dispatcher.ErrNotRetryable when permanent.
type localSub struct {
	fail      int
	permanent bool

	mu       sync.Mutex
	attempts []int
	events   []cloudevents.Event
}

func (s *localSub) Receive(_ context.Context, ev *cloudevents.Event, attempt int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts = append(s.attempts, attempt)
	s.events = append(s.events, ev.Clone())
	if len(s.attempts) <= s.fail && s.permanent {
		return fmt.Errorf("sensor trigger failed: no field id: %w", dispatcher.ErrNotRetryable)
	}
	if len(s.attempts) <= s.fail {
		return errors.New("sensor trigger failed: target down")
	}
	return nil
}

func (s *localSub) seen() ([]int, []cloudevents.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.attempts), slices.Clone(s.events)
}

// localConfig is testConfig with sub as the in-process subscriber at the URL at.
func localConfig(at string, sub dispatcher.LocalSubscriber) broker.Config {
	cfg := testConfig()
	cfg.Local = func(u *url.URL) dispatcher.LocalSubscriber {
		if u.String() == at {
			return sub
		}
		return nil
	}
	return cfg
}

// TestLocalSubscriberIsDeliveredInProcess runs a trigger whose subscriber lives in the
// data plane's process: events reach it with no HTTP exchange, with their attributes
// and attempt numbers, and get the same retries and dead-letter sink as over HTTP.
func TestLocalSubscriberIsDeliveredInProcess(t *testing.T) {
	t.Parallel()
	const localURL = "http://sensors.local.invalid/default/s"
	tests := []struct {
		name         string
		fail         int
		permanent    bool
		wantAttempts []int
		// wantCode and wantData are the dead letter's error code and data; "" for none.
		wantCode, wantData string
	}{
		{name: "delivered at once", fail: 0, wantAttempts: []int{1}},
		{name: "retried then delivered", fail: 2, wantAttempts: []int{1, 2, 3}},
		{name: "dead-lettered after its retries", fail: 99, wantAttempts: []int{1, 2, 3},
			wantCode: "500", wantData: "sensor trigger failed: target down"},
		{name: "not retryable: dead-lettered at once", fail: 99, permanent: true, wantAttempts: []int{1},
			wantCode: "422", wantData: "sensor trigger failed: no field id: not retryable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sub := &localSub{fail: tt.fail, permanent: tt.permanent}
			p := startPlane(t, localConfig(localURL, sub))
			dls := brokertest.NewSink(t, nil)
			p.apply(t, brokers("b"), newTrigger("t", "b", localURL, withDelivery(delivery(2, "PT0.02S", dls.URL))))
			ev := brokertest.NewEvent("local-1", "order.created")
			ev.SetExtension("tenant", "acme")
			brokertest.MustPost(t, p.brokerURL("b"), ev, http.StatusAccepted)
			p.waitIdle(t, "b", "t")

			attempts, events := sub.seen()
			if !slices.Equal(attempts, tt.wantAttempts) {
				t.Fatalf("attempts = %v, want %v", attempts, tt.wantAttempts)
			}
			got := events[0]
			if got.ID() != "local-1" || got.Type() != "order.created" || fmt.Sprint(got.Extensions()["tenant"]) != "acme" ||
				string(got.Data()) != string(ev.Data()) {
				t.Fatalf("delivered %v, want the posted event", got)
			}
			if _, ok := got.Extensions()["knativebrokerttl"]; ok {
				t.Fatalf("delivered event kept the broker's TTL extension: %v", got.Extensions())
			}
			if tt.wantCode == "" {
				if dls.Count() != 0 {
					t.Fatalf("dead-letter sink got %d events, want 0", dls.Count())
				}
				return
			}
			dls.WaitCount(t, waitFor, 1)
			dead := dls.Requests()[0].Event
			raw, _ := base64.StdEncoding.DecodeString(fmt.Sprint(dead.Extensions()[dispatcher.ExtErrorData]))
			if dead.ID() != "local-1" || fmt.Sprint(dead.Extensions()[dispatcher.ExtErrorCode]) != tt.wantCode ||
				string(raw) != tt.wantData || fmt.Sprint(dead.Extensions()[dispatcher.ExtErrorDest]) != localURL {
				t.Fatalf("dead letter %v (data %q), want local-1 with code %s, the error %q and the subscriber", dead, raw, tt.wantCode, tt.wantData)
			}
		})
	}
}

// TestLocalSubscriberGetsReplayAsRedelivery replays a dead letter to an in-process
// subscriber: it comes as a redelivery (attempt 2 or more), never as a first delivery,
// since the subscriber saw the event before it was dead-lettered.
func TestLocalSubscriberGetsReplayAsRedelivery(t *testing.T) {
	t.Parallel()
	const localURL = "http://sensors.local.invalid/default/s"
	sub := &localSub{fail: 1}
	p := startPlane(t, localConfig(localURL, sub))
	p.apply(t, brokers("b"), newTrigger("t", "b", localURL, withDelivery(delivery(0, "PT0.02S", ""))))
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("replayed-1", "order.created"), http.StatusAccepted)
	p.deadLetters(t, 1)
	if n, err := deadletter.Replay(context.Background(), p.js, deadletter.Filter{Trigger: "t"}, nil); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v; want 1", n, err)
	}
	p.waitIdle(t, "b", "t")
	attempts, _ := sub.seen()
	if len(attempts) != 2 || attempts[0] != 1 || attempts[1] < 2 {
		t.Fatalf("attempts = %v, want [1 n] with n >= 2: the replay is a redelivery", attempts)
	}
}
