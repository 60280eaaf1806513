package host_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/webhook"
)

// TestMainServesEntriesOnPORT runs the webhook image's main as a Knative
// revision runs it, with PORT set: entries whose EventSource spreads them
// over ports 12000, 13000 and 9090 (a port Knative reserves) are all served
// on PORT at their endpoints, and FLINT_EVENT_NAMES limits the entries to
// those it names.
func TestMainServesEntriesOnPORT(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("testdata/multiport.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type request struct {
		method, endpoint string
		want             int
	}
	tests := []struct {
		name       string
		eventNames string
		requests   []request
		// subjects are the events the broker stores, sorted.
		subjects []string
	}{
		{name: "every entry", requests: []request{
			{http.MethodPost, "/orders", http.StatusOK},
			{http.MethodPost, "/payments", http.StatusOK},
			{http.MethodGet, "/probes", http.StatusOK},
		}, subjects: []string{"orders", "payments", "probes"}},
		{name: "the entries named", eventNames: "payments, probes", requests: []request{
			{http.MethodPost, "/orders", http.StatusNotFound},
			{http.MethodPost, "/payments", http.StatusOK},
			{http.MethodGet, "/probes", http.StatusOK},
		}, subjects: []string{"payments", "probes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBroker(t)
			port := freePort(t)
			env := map[string]string{
				"PORT":               port,
				"FLINT_EVENT_NAMES":  tc.eventNames,
				"METRICS_PORT":       "off",
				"EVENTSOURCE_OBJECT": string(doc),
				"K_SINK":             b.URL + "/ns/default",
				"LOG_LEVEL":          "error",
			}
			m := startMain(t, env, port)
			for _, r := range tc.requests {
				req, err := http.NewRequestWithContext(t.Context(), r.method, m.url+r.endpoint, strings.NewReader(`{"n":1}`))
				if err != nil {
					t.Fatal(err)
				}
				resp, err := m.client.Do(req)
				if err != nil {
					t.Fatalf("%s %s on PORT: %v", r.method, r.endpoint, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != r.want {
					t.Errorf("%s %s on PORT: %d %q, want %d", r.method, r.endpoint, resp.StatusCode, body, r.want)
				}
			}
			var subjects []string
			for _, ev := range b.stored() {
				subjects = append(subjects, ev.Subject())
			}
			slices.Sort(subjects)
			if !slices.Equal(subjects, tc.subjects) {
				t.Errorf("broker stored events %v, want %v", subjects, tc.subjects)
			}
			m.stop(t)
		})
	}
}

// TestMainPORTRefusals are the EventSources an image cannot serve on one
// port, and FLINT_EVENT_NAMES naming no entry.
func TestMainPORTRefusals(t *testing.T) {
	t.Parallel()
	read := func(name string) string {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{name: "one endpoint on two ports", env: map[string]string{"EVENTSOURCE_OBJECT": read("clash.yaml"), "PORT": "0"},
			wantErr: "port 0 endpoint /push is already served by spec.webhook[first]"},
		{name: "an unknown entry", env: map[string]string{"EVENTSOURCE_OBJECT": read("multiport.yaml"), "FLINT_EVENT_NAMES": "orders,refunds"},
			wantErr: "FLINT_EVENT_NAMES: eventsource spread has no spec.webhook entries named refunds"},
		{name: "a PORT that is no port", env: map[string]string{"EVENTSOURCE_OBJECT": read("multiport.yaml"), "PORT": "http"},
			wantErr: "PORT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.env["K_SINK"] = "http://127.0.0.1:1/ns/default"
			tc.env["METRICS_PORT"] = "off"
			tc.env["LOG_LEVEL"] = "error"
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := host.Main(ctx, webhook.Type, nil, func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Main = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}
