package dev_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/freeport"
)

// TestMetricsMoveAsEventsFlow posts webhook events through flint dev and
// scrapes the printed metrics URL: received, sent and triggered move, and a
// target that refuses moves failed.
func TestMetricsMoveAsEventsFlow(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.name, func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			tg := newTarget(t, true, 0)
			port := freeport.Port(t)
			eps := make(chan dev.Endpoints, 1)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- dev.Run(ctx, objects(t, port, tg.URL), dev.Options{ViaHTTP: w.viaHTTP, BrokerAddr: "127.0.0.1:0",
					Logger: zap.NewNop(), Ready: func(ep dev.Endpoints) { eps <- ep }})
			}()
			t.Cleanup(func() { cancel(); <-done })
			var ep dev.Endpoints
			select {
			case ep = <-eps:
			case err := <-done:
				t.Fatalf("dev.Run: %v", err)
			case <-time.After(30 * time.Second):
				t.Fatal("dev.Run not ready after 30s")
			}
			if !strings.HasPrefix(ep.Metrics, "http://127.0.0.1:") {
				t.Fatalf("metrics URL %q, want one on 127.0.0.1", ep.Metrics)
			}
			post(t, port, "drop") // the event source's filter expression drops it
			post(t, port, "one")
			waitFor(t, func() bool { return tg.count() == 1 })
			wants := []string{
				`flint_eventsource_events_received_total{event_name="orders",eventsource_name="hooks"} 1`,
				`flint_eventsource_events_filtered_total{event_name="orders",eventsource_name="hooks"} 1`,
				`argo_events_events_sent_total{event_name="orders",eventsource_name="hooks"} 1`,
				`argo_events_event_service_running_total{event_name="orders",eventsource_name="hooks"} 1`,
				`argo_events_action_triggered_total{sensor_name="orders",trigger_name="notify"} 1`,
				`event_count{broker_name="default",namespace_name="default",response_code="202",response_code_class="2xx",trigger_name=""} 1`,
				`event_count{broker_name="default",namespace_name="default",response_code="202",response_code_class="2xx",trigger_name="orders-order"} 1`,
				`flint_broker_events_filtered_total{broker_name="default",namespace_name="default",trigger_name="orders-order"} 0`,
			}
			// The dispatcher counts a delivery when the sensor answers, which
			// is after the target has seen the event: scrape until all lines
			// are there or the deadline passes.
			var body string
			var missing []string
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				body, missing = scrape(t, ep.Metrics), nil
				for _, want := range wants {
					if !strings.Contains(body, want+"\n") {
						missing = append(missing, want)
					}
				}
				if len(missing) == 0 || time.Now().After(deadline) {
					break
				}
			}
			for _, m := range missing {
				t.Errorf("/metrics lacks %s", m)
			}
			if t.Failed() {
				t.Logf("/metrics:\n%s", body)
			}
			tg.healthy.Store(false)
			post(t, port, "two")
			waitFor(t, func() bool {
				return strings.Contains(scrape(t, ep.Metrics), `argo_events_action_failed_total{sensor_name="orders",trigger_name="notify"} `)
			})
		})
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
