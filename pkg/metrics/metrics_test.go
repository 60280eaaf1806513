package metrics_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/metrics"
)

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	return string(b)
}

func TestServedMetricsMove(t *testing.T) {
	t.Parallel()
	reg := metrics.New()
	srv, err := metrics.Listen("127.0.0.1:0", reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })

	ev := reg.Source.Event("webhook", "example")
	ev.Running(true)
	ev.Sent(ev.Received())
	ev.SendFailed()
	ev.Filtered()
	sm := reg.Sensor.For("webhook-sensor", "http-trigger")
	sm.Handled(nil)
	sm.Fired("http-trigger", time.Now(), nil)
	sm.Fired("http-trigger", time.Now(), errors.New("boom"))
	tr := reg.Broker.Trigger("default", "default", "webhook-sensor-example")
	tr.Dispatched(202, time.Now())
	tr.Dispatched(202, time.Now())
	tr.Dispatched(0, time.Now())
	tr.Filtered()
	tr.DeadLettered()
	in := reg.Broker.Ingress("default", "default")
	in.Dispatched(202, time.Now())
	in.Filtered() // an ingress filters nothing: no series

	body := scrape(t, srv.URL())
	for _, want := range []string{
		`argo_events_event_service_running_total{event_name="example",eventsource_name="webhook"} 1`,
		`flint_eventsource_events_received_total{event_name="example",eventsource_name="webhook"} 1`,
		`argo_events_events_sent_total{event_name="example",eventsource_name="webhook"} 1`,
		`argo_events_events_sent_failed_total{event_name="example",eventsource_name="webhook"} 1`,
		`argo_events_events_processing_failed_total{event_name="example",eventsource_name="webhook"} 1`,
		`argo_events_event_processing_duration_milliseconds_count{event_name="example",eventsource_name="webhook"} 1`,
		`flint_eventsource_events_filtered_total{event_name="example",eventsource_name="webhook"} 1`,
		`flint_sensor_events_received_total{sensor_name="webhook-sensor"} 1`,
		`argo_events_action_triggered_total{sensor_name="webhook-sensor",trigger_name="http-trigger"} 1`,
		`argo_events_action_failed_total{sensor_name="webhook-sensor",trigger_name="http-trigger"} 1`,
		`argo_events_action_duration_milliseconds_count{sensor_name="webhook-sensor",trigger_name="http-trigger"} 2`,
		`event_count{broker_name="default",namespace_name="default",response_code="202",response_code_class="2xx",trigger_name="webhook-sensor-example"} 2`,
		`event_count{broker_name="default",namespace_name="default",response_code="0",response_code_class="0xx",trigger_name="webhook-sensor-example"} 1`,
		`event_dispatch_latencies_count{broker_name="default",namespace_name="default",response_code="202",response_code_class="2xx",trigger_name="webhook-sensor-example"} 2`,
		`flint_broker_events_filtered_total{broker_name="default",namespace_name="default",trigger_name="webhook-sensor-example"} 1`,
		`flint_broker_events_dead_lettered_total{broker_name="default",namespace_name="default",trigger_name="webhook-sensor-example"} 1`,
		`event_count{broker_name="default",namespace_name="default",response_code="202",response_code_class="2xx",trigger_name=""} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, `flint_broker_events_filtered_total{broker_name="default",namespace_name="default",trigger_name=""}`) {
		t.Error("/metrics has a filtered counter for the ingress")
	}
	base := strings.TrimSuffix(srv.URL(), "/metrics")
	for _, p := range []string{"/healthz", "/readyz"} {
		if got := scrape(t, base+p); got != "ok\n" {
			t.Errorf("GET %s = %q, want ok", p, got)
		}
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		ready bool
		want  int
	}{{"ready", true, http.StatusOK}, {"not ready", false, http.StatusServiceUnavailable}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := metrics.Listen("127.0.0.1:0", metrics.New(), func() bool { return tt.ready })
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Close() })
			resp, err := http.Get("http://" + srv.Addr().String() + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("GET /readyz = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestNilMetricsAreNoOps(t *testing.T) {
	t.Parallel()
	var s *metrics.Source
	var se *metrics.Sensor
	var b *metrics.Broker
	s.Event("a", "b").Sent(time.Now())
	s.Event("a", "b").Filtered()
	se.For("s", "t").Fired("t", time.Now(), nil)
	b.Trigger("n", "b", "t").Dispatched(200, time.Now())
}
