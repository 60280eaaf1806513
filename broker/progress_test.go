package broker_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/flintevents/flint/broker/dispatcher"
	"github.com/flintevents/flint/broker/internal/brokertest"
	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// TestSlowHandlingIsNotRedelivered makes one event's handling (a timed-out attempt, then
// a slow dead-letter sink) outlast the consumer's AckWait; progress reports must keep
// JetStream from handing it out again meanwhile.
func TestSlowHandlingIsNotRedelivered(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	// Times wide enough that a loaded machine's scheduling delays do not let
	// AckWait expire between two progress reports.
	cfg.DefaultTimeout = 2 * time.Second
	cfg.AckWait = 2 * time.Second // shorter than the handling
	p := startPlane(t, cfg)
	hang := brokertest.NewSink(t, func(w http.ResponseWriter, n int, r *brokertest.Request) {
		time.Sleep(2800 * time.Millisecond) // beyond the timeout
	})
	slowDLS := brokertest.NewSink(t, func(w http.ResponseWriter, n int, r *brokertest.Request) {
		time.Sleep(1600 * time.Millisecond)
	})
	p.apply(t, brokers("b"), newTrigger("t", "b", hang.URL, withDelivery(delivery(0, "PT0.01S", slowDLS.URL))))
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("slow-1", "t"), http.StatusAccepted)

	slowDLS.WaitCount(t, waitFor, 1)
	p.waitIdle(t, "b", "t")
	if hang.Count() != 1 || slowDLS.Count() != 1 {
		t.Fatalf("subscriber tried %d times, dead-letter sink got %d events; want 1 and 1", hang.Count(), slowDLS.Count())
	}
}

// TestFailedReplyStoreFailsDelivery answers with a reply too large for the NATS server:
// storing it fails, so the delivery counts as failed and the event is dead-lettered.
func TestFailedReplyStoreFailsDelivery(t *testing.T) {
	t.Parallel()
	srv := natsdtest.RunWith(t, natsd.Options{MaxPayload: 64 << 10})
	p := startPlaneOn(t, srv, testConfig(), zaptest.NewLogger(t))
	big := strings.Repeat("x", 100<<10)
	replier := brokertest.NewSink(t, func(w http.ResponseWriter, n int, r *brokertest.Request) {
		w.Header().Set("Ce-Specversion", "1.0")
		w.Header().Set("Ce-Id", fmt.Sprint("big-", n))
		w.Header().Set("Ce-Source", "/replier")
		w.Header().Set("Ce-Type", "big.reply")
		_, _ = w.Write([]byte(big))
	})
	dls := brokertest.NewSink(t, nil)
	p.apply(t, brokers("b"), newTrigger("t", "b", replier.URL, withDelivery(delivery(1, "PT0.01S", dls.URL))))
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("orig", "t"), http.StatusAccepted)

	dls.WaitCount(t, waitFor, 1)
	p.waitIdle(t, "b", "t")
	if replier.Count() != 2 {
		t.Fatalf("subscriber tried %d times, want 2 (the reply store failure is retried)", replier.Count())
	}
	dead := dls.Requests()[0].Event
	if dead.ID() != "orig" || fmt.Sprint(dead.Extensions()[dispatcher.ExtErrorCode]) != "502" {
		t.Fatalf("dead letter %s with %v, want the original event with code 502", dead.ID(), dead.Extensions())
	}
	if !bytes.Contains([]byte(fmt.Sprint(dead.Extensions())), []byte(dispatcher.ExtErrorData)) {
		t.Fatalf("dead letter lacks %s", dispatcher.ExtErrorData)
	}
}
