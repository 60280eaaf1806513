package broker_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"

	"github.com/flintevents/flint/broker/internal/brokertest"
	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// TestKeeperHoldsOneMarker delivers more than a marker interval of events: every
// event is delivered and removed, and the stream holds exactly one marker, the
// newest, held by the keeper consumer; a data plane started again on the same store
// replaces the markers an earlier one left by one of its own.
func TestKeeperHoldsOneMarker(t *testing.T) {
	t.Parallel()
	srv := natsdtest.Run(t)
	p := startPlaneOn(t, srv, testConfig(), zaptest.NewLogger(t))
	sink := brokertest.NewSink(t, nil)
	p.apply(t, brokers("b"), newTrigger("t", "b", sink.URL))
	const n = 400 // ~1.1 KiB each: past the 256 KiB between two markers
	for i := range n {
		ev := brokertest.NewEvent(fmt.Sprintf("k-%d", i), "t")
		if err := ev.SetData("application/json", map[string]string{"pad": string(make([]byte, 1024))}); err != nil {
			t.Fatal(err)
		}
		brokertest.MustPost(t, p.brokerURL("b"), ev, http.StatusAccepted)
	}
	sink.WaitCount(t, waitFor, n)
	p.waitIdle(t, "b", "t")
	checkMarkers := func(t *testing.T) {
		t.Helper()
		ctx := context.Background()
		s, err := p.js.Stream(ctx, bus.StreamName("default", "b"))
		if err != nil {
			t.Fatal(err)
		}
		brokertest.Eventually(t, waitFor, func() error {
			si, err := s.Info(ctx, jetstream.WithSubjectFilter(">"))
			if err != nil {
				return err
			}
			events, markers := si.State.Subjects[bus.Subject("default", "b")], si.State.Subjects[bus.KeepSubject("default", "b")]
			if events != 0 || markers != 1 || si.State.Msgs != 1 {
				return fmt.Errorf("stream holds %d events and %d markers (%d messages), want 0 and 1", events, markers, si.State.Msgs)
			}
			return nil
		})
		if _, err := s.Consumer(ctx, bus.KeeperConsumer); err != nil {
			t.Fatalf("keeper consumer: %v", err)
		}
	}
	checkMarkers(t)
	p.stop(t)
	again := startPlaneOn(t, srv, testConfig(), zaptest.NewLogger(t))
	again.apply(t, brokers("b"), newTrigger("t", "b", sink.URL))
	checkMarkers(t)
}
