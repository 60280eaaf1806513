package broker_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flintevents/flint/broker/internal/brokertest"
	"github.com/flintevents/flint/pkg/metrics"
)

// scrape returns the lines of a /metrics page.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx // a test's scrape
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return string(body)
}

// TestMetricsCountIngressTriggersFiltersAndDeadLetters sends events through a broker
// and reads Knative's event_count and flint's filtered and dead-letter counters from
// the /metrics page.
func TestMetricsCountIngressTriggersFiltersAndDeadLetters(t *testing.T) {
	t.Parallel()
	reg := metrics.New()
	cfg := testConfig()
	cfg.Metrics = reg.Broker
	p := startPlane(t, cfg)
	page := httptest.NewServer(reg.Handler())
	t.Cleanup(page.Close)

	ok := brokertest.NewSink(t, nil)
	failing := brokertest.NewSink(t, status(http.StatusInternalServerError, "down"))
	p.apply(t, brokers("b1"),
		newTrigger("keep", "b1", ok.URL, withType("keep")),
		newTrigger("fails", "b1", failing.URL, withDelivery(delivery(0, "PT0.01S", ""))))

	ctx := context.Background()
	for i, typ := range []string{"keep", "drop"} {
		code, err := brokertest.Post(ctx, http.DefaultClient, p.brokerURL("b1"), brokertest.NewEvent(fmt.Sprint("e", i), typ))
		if err != nil || code != http.StatusAccepted {
			t.Fatalf("posting %s: %d %v", typ, code, err)
		}
	}
	if code, err := brokertest.Post(ctx, http.DefaultClient, p.brokerURL("missing"), brokertest.NewEvent("e9", "keep")); err != nil || code != http.StatusNotFound {
		t.Fatalf("posting to a missing broker: %d %v", code, err)
	}
	p.waitIdle(t, "b1", "keep")
	p.waitIdle(t, "b1", "fails")

	want := []string{
		`event_count{broker_name="b1",namespace_name="default",response_code="202",response_code_class="2xx",trigger_name=""} 2`,
		`event_count{broker_name="b1",namespace_name="default",response_code="200",response_code_class="2xx",trigger_name="keep"} 1`,
		`event_count{broker_name="b1",namespace_name="default",response_code="500",response_code_class="5xx",trigger_name="fails"} 2`,
		`event_dispatch_latencies_count{broker_name="b1",namespace_name="default",response_code="200",response_code_class="2xx",trigger_name="keep"} 1`,
		`flint_broker_events_filtered_total{broker_name="b1",namespace_name="default",trigger_name="keep"} 1`,
		`flint_broker_events_filtered_total{broker_name="b1",namespace_name="default",trigger_name="fails"} 0`,
		`flint_broker_events_dead_lettered_total{broker_name="b1",namespace_name="default",trigger_name="fails"} 2`,
		`flint_broker_events_dead_lettered_total{broker_name="b1",namespace_name="default",trigger_name="keep"} 0`,
	}
	brokertest.Eventually(t, waitFor, func() error {
		got := scrape(t, page.URL)
		for _, line := range want {
			if !strings.Contains(got, line+"\n") {
				return fmt.Errorf("/metrics lacks %s\n%s", line, grepLines(got, "event_count", "flint_broker"))
			}
		}
		for _, family := range []string{"flint_broker_events_filtered_total", "flint_broker_events_dead_lettered_total"} {
			if strings.Contains(got, family+`{broker_name="b1",namespace_name="default",trigger_name=""}`) {
				return fmt.Errorf("/metrics has a %s of the ingress:\n%s", family, grepLines(got, family))
			}
		}
		if strings.Contains(got, `broker_name="missing"`) {
			return fmt.Errorf("/metrics counts an unknown broker:\n%s", grepLines(got, "missing"))
		}
		return nil
	})
}

// grepLines keeps the lines of s holding one of words.
func grepLines(s string, words ...string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		for _, w := range words {
			if strings.Contains(line, w) && !strings.HasPrefix(line, "#") {
				b.WriteString(line + "\n")
				break
			}
		}
	}
	return b.String()
}
