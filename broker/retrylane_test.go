package broker_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flintevents/flint/broker/internal/brokertest"
)

// failPoison answers 500 to events of type "poison" and 200 to the others.
func failPoison(w http.ResponseWriter, _ int, r *brokertest.Request) {
	if r.Event.Type() == "poison" {
		http.Error(w, "cannot take this one", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Events a subscriber keeps failing wait for their retries in the trigger's retry
// lane, not in its delivery slots: ten times as many failing events as slots do not
// hold back the fresh events sent after them, and every failing event is still tried
// again, as often as its delivery spec says, then dead-lettered.
func TestRetriesDoNotHoldBackFreshEvents(t *testing.T) {
	t.Parallel()
	const slots, poison, good = 10, 100, 20
	cfg := testConfig()
	cfg.Concurrency = slots
	p := startPlane(t, cfg)
	sub := brokertest.NewSink(t, failPoison)
	p.apply(t, brokers("b"), newTrigger("t", "b", sub.URL, withDelivery(delivery(2, "PT1S", ""))))

	for i := range poison {
		brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent(fmt.Sprintf("poison-%d", i), "poison"), http.StatusAccepted)
	}
	sent := time.Now()
	for i := range good {
		brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent(fmt.Sprintf("good-%d", i), "good"), http.StatusAccepted)
	}
	brokertest.Eventually(t, 5*time.Second, func() error {
		delivered := 0
		for id, n := range sub.IDs() {
			if strings.HasPrefix(id, "good-") && n > 0 {
				delivered++
			}
		}
		if delivered < good {
			return fmt.Errorf("%d of %d fresh events delivered %v after they were sent, behind %d failing events on %d slots",
				delivered, good, time.Since(sent).Round(time.Millisecond), poison, slots)
		}
		return nil
	})
	t.Logf("%d fresh events delivered within %v, behind %d failing events on %d slots", good, time.Since(sent).Round(time.Millisecond), poison, slots)

	// Linear backoff of 1 s then 2 s: every failing event is dead-lettered after its
	// third attempt, about 3 s after its first.
	letters := p.deadLetters(t, poison)
	for _, l := range letters {
		if l.Attempts != 3 || l.Code != http.StatusInternalServerError || l.Event == nil || l.Event.Type() != "poison" {
			t.Fatalf("dead letter %+v, want a poison event given up after 3 attempts with code 500", l)
		}
	}
	ids := map[string]bool{}
	for _, l := range letters {
		ids[l.Event.ID()] = true
	}
	if len(ids) != poison {
		t.Errorf("dead letters hold %d distinct events, want %d", len(ids), poison)
	}
	for id, n := range sub.IDs() {
		if strings.HasPrefix(id, "poison-") && n != 3 {
			t.Errorf("event %s tried %d times, want 3", id, n)
		}
	}
	p.waitIdle(t, "b", "t")
}
