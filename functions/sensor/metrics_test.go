package sensor

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flintevents/flint/pkg/metrics"
)

// TestMetricsCountFirings scrapes /metrics after a firing that succeeds and
// one the target refuses: the Argo action counters and the sensor's event
// counters move.
func TestMetricsCountFirings(t *testing.T) {
	t.Parallel()
	fn, rec := newFunction(t, "single")
	reg := metrics.New()
	fn.Instrument(reg, loadSensor(t, "single", "http://unused"))
	ctx := context.Background()

	if _, err := fn.Handle(ctx, webhookEvent(t, "1", "example", `{"message":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	rec.set(http.StatusInternalServerError)
	if _, err := fn.Handle(ctx, webhookEvent(t, "2", "example", `{"message":"hey"}`)); err == nil {
		t.Fatal("a refused firing was handled without error")
	}

	srv := httptest.NewServer(reg.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`argo_events_action_triggered_total{sensor_name="single",trigger_name="post"} 1`,
		`argo_events_action_failed_total{sensor_name="single",trigger_name="post"} 1`,
		`argo_events_action_duration_milliseconds_count{sensor_name="single",trigger_name="post"} 2`,
		`flint_sensor_events_received_total{sensor_name="single"} 2`,
		`flint_sensor_events_failed_total{sensor_name="single"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
