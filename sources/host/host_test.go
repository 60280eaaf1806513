package host_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/flintevents/flint/pkg/freeport"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/webhook"
)

// broker is an httptest server speaking the ingress contract: it keeps the
// binary-mode CloudEvents POSTed to it and answers 202.
type broker struct {
	*httptest.Server
	mu     sync.Mutex
	events []cloudevents.Event
}

func newBroker(t *testing.T) *broker {
	t.Helper()
	b := &broker{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := cehttp.NewEventFromHTTPRequest(r)
		if err != nil {
			http.Error(w, "bad event: "+err.Error(), http.StatusBadRequest)
			return
		}
		b.mu.Lock()
		b.events = append(b.events, *ev)
		b.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *broker) stored() []cloudevents.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]cloudevents.Event(nil), b.events...)
}

func TestStamp(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.FixedZone("x", 3600))
	own := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		opts host.StampOptions
		in   sources.Event
		want func(cloudevents.Event) string // "" when the event is right
	}{
		{name: "minted id, host clock in UTC", opts: host.StampOptions{Now: func() time.Time { return at }},
			in: sources.Event{Name: "example", Data: []byte(`{"a":1}`)},
			want: func(ev cloudevents.Event) string {
				if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(ev.ID()) {
					return "id " + ev.ID()
				}
				if !ev.Time().Equal(at) || ev.Time().Location() != time.UTC {
					return "time " + ev.Time().String()
				}
				return ""
			}},
		{name: "natural id and time kept", in: sources.Event{Name: "example", Data: []byte(`{}`), ID: "sqs-1", Time: own},
			want: func(ev cloudevents.Event) string {
				if ev.ID() != "sqs-1" || !ev.Time().Equal(own) {
					return "id/time " + ev.ID() + " " + ev.Time().String()
				}
				return ""
			}},
		{name: "overrides and own extensions, own wins", opts: host.StampOptions{Extensions: map[string]string{"team": "infra", "tier": "gold"}},
			in: sources.Event{Name: "example", Data: []byte(`{}`), Extensions: map[string]string{"tier": "silver", "partition": "3"}},
			want: func(ev cloudevents.Event) string {
				if got := fmt.Sprint(ev.Extensions()); got != "map[partition:3 team:infra tier:silver]" {
					return "extensions " + got
				}
				return ""
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []cloudevents.Event
			emit, err := host.Stamp("my-es", "webhook", func(_ context.Context, ev cloudevents.Event) error {
				got = append(got, ev)
				return nil
			}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := emit(context.Background(), tc.in); err != nil {
				t.Fatal(err)
			}
			ev := got[0]
			if err := ev.Validate(); err != nil {
				t.Fatalf("invalid CloudEvent: %v", err)
			}
			if ev.Source() != "my-es" || ev.Type() != "webhook" || ev.Subject() != tc.in.Name || ev.SpecVersion() != "1.0" ||
				ev.DataContentType() != "application/json" || string(ev.Data()) != string(tc.in.Data) {
				t.Errorf("event %s", ev)
			}
			if msg := tc.want(ev); msg != "" {
				t.Errorf("wrong %s", msg)
			}
		})
	}
	emit, _ := host.Stamp("my-es", "webhook", func(context.Context, cloudevents.Event) error { return nil }, host.StampOptions{})
	if err := emit(context.Background(), sources.Event{Name: "e", Extensions: map[string]string{"Bad-Name": "x"}}); err == nil {
		t.Error("an event with an invalid extension name was emitted")
	}
	if _, err := host.Stamp("my-es", "webhook", nil, host.StampOptions{}); err == nil {
		t.Error("Stamp with a nil sink succeeded")
	}
}

func TestParseOverrides(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"": "map[]",
		`{"extensions":{"team":"infra","tier":"gold"}}`: "map[team:infra tier:gold]",
	} {
		got, err := host.ParseOverrides(raw)
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("ParseOverrides(%q) = %v, %v; want %s", raw, got, err, want)
		}
	}
	if _, err := host.ParseOverrides(`{"extensions":`); err == nil || !strings.Contains(err.Error(), "K_CE_OVERRIDES") {
		t.Errorf("bad overrides: %v", err)
	}
}

const esYAML = `apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: webhook
spec:
  service:
    ports:
      - port: 12000
        targetPort: 12000
  webhook:
    example:
      port: "%s"
      endpoint: /example
      method: POST
`

func TestLoadEventSource(t *testing.T) {
	t.Parallel()
	doc := fmt.Sprintf(esYAML, "12000")
	file := filepath.Join(t.TempDir(), "es.yaml")
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		inline  string
		wantErr string
	}{
		{name: "file", path: file},
		{name: "inline YAML", inline: doc},
		{name: "inline base64", inline: base64.StdEncoding.EncodeToString([]byte(doc))},
		{name: "file wins over inline", path: file, inline: "garbage"},
		{name: "nothing", wantErr: "no eventsource"},
		{name: "missing file", path: filepath.Join(t.TempDir(), "nope.yaml"), wantErr: "reading eventsource"},
		{name: "unknown field", inline: strings.Replace(doc, "method: POST", "method: POST\n      methd: GET", 1), wantErr: `spec.webhook[example].methd: unknown field`},
		{name: "no name", inline: strings.Replace(doc, "name: webhook", "labels: {}", 1), wantErr: "metadata.name"},
		{name: "invalid after defaults", inline: strings.Replace(doc, "method: POST", "method: POST\n      maxPayloadSize: 0", 1), wantErr: "spec.webhook[example].maxPayloadSize"},
		{name: "two objects", inline: doc + "---\n" + strings.NewReplacer("name: webhook", "name: other", "/example", "/other").Replace(doc), wantErr: "holds 2 objects"},
		{name: "a Knative Trigger besides", inline: doc + "---\napiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {name: t}\n", wantErr: "holds 2 objects"},
		{name: "a Sensor alone", inline: "apiVersion: argoproj.io/v1alpha1\nkind: Sensor\nmetadata: {name: s}\nspec:\n  dependencies: [{name: d, eventSourceName: webhook, eventName: example}]\n  triggers: [{template: {name: t, log: {}}}]\n", wantErr: "holds 1 objects"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			es, err := host.LoadEventSource(context.Background(), tc.path, tc.inline)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadEventSource = %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if es.Name != "webhook" || es.Spec.Webhook["example"].Endpoint != "/example" || es.Spec.Webhook["example"].Port != "12000" {
				t.Errorf("decoded %+v", es)
			}
		})
	}
}

// TestMainEndToEnd runs the webhook image's main body end to end: YAML from the
// environment, a request on the YAML's port, the event at the broker with the
// K_CE_OVERRIDES extension, a clean stop on cancel. Its KUBECONFIG names no
// file: a type that needs no cluster never reads it.
func TestMainEndToEnd(t *testing.T) {
	t.Parallel()
	b := newBroker(t)
	port, metricsPort := freePort(t), freePort(t)
	env := map[string]string{
		"METRICS_PORT":       metricsPort,
		"EVENTSOURCE_OBJECT": base64.StdEncoding.EncodeToString(fmt.Appendf(nil, esYAML, port)),
		"K_SINK":             b.URL + "/ns/default",
		"K_CE_OVERRIDES":     `{"extensions":{"team":"infra"}}`,
		"LOG_LEVEL":          "error",
		"KUBECONFIG":         filepath.Join(t.TempDir(), "missing-kubeconfig"),
	}
	m := startMain(t, env, port)
	c, url := m.client, m.url
	resp, err := c.Post(url+"/example", "text/plain", strings.NewReader(`{"message":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "success" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	evs := b.stored()
	if len(evs) != 1 {
		t.Fatalf("broker stored %d events", len(evs))
	}
	ev := evs[0]
	if ev.Source() != "webhook" || ev.Subject() != "example" || ev.Type() != "webhook" || ev.Extensions()["team"] != "infra" {
		t.Errorf("event %s", ev)
	}
	if !strings.Contains(string(ev.Data()), `"body":{"message":"hi"}`) {
		t.Errorf("data %s", ev.Data())
	}
	scraped := scrape(t, c, metricsPort)
	for _, want := range []string{
		`argo_events_event_service_running_total{event_name="example",eventsource_name="webhook"} 1`,
		`argo_events_events_sent_total{event_name="example",eventsource_name="webhook"} 1`,
		`argo_events_event_processing_duration_milliseconds_count{event_name="example",eventsource_name="webhook"} 1`,
	} {
		if !strings.Contains(scraped, want) {
			t.Errorf("/metrics of the source image lacks %s", want)
		}
	}
	m.stop(t)
}

// TestMainCountsFilteredEvents posts to a webhook image whose entry has a
// filter expression: an event the filter drops is answered success, moves
// flint_eventsource_events_filtered_total by one and is not sent; one it
// passes is sent and not counted as filtered.
func TestMainCountsFilteredEvents(t *testing.T) {
	t.Parallel()
	b := newBroker(t)
	port, metricsPort := freePort(t), freePort(t)
	doc := fmt.Sprintf(esYAML, port) + "      filter:\n        expression: body.action == \"opened\"\n"
	env := map[string]string{
		"METRICS_PORT":       metricsPort,
		"EVENTSOURCE_OBJECT": doc,
		"K_SINK":             b.URL + "/ns/default",
		"LOG_LEVEL":          "error",
	}
	m := startMain(t, env, port)
	const (
		filtered = `flint_eventsource_events_filtered_total{event_name="example",eventsource_name="webhook"}`
		sent     = `argo_events_events_sent_total{event_name="example",eventsource_name="webhook"}`
	)
	counts := func() (string, string) {
		text := scrape(t, m.client, metricsPort)
		return sample(text, filtered), sample(text, sent)
	}
	if f, s := counts(); f != "0" || s != "0" {
		t.Fatalf("before any request: filtered %q, sent %q; want 0 and 0", f, s)
	}
	for _, tc := range []struct{ body, filtered, sent string }{
		{body: `{"action":"closed"}`, filtered: "1", sent: "0"},
		{body: `{"action":"opened"}`, filtered: "1", sent: "1"},
	} {
		resp, err := m.client.Post(m.url+"/example", "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		reply, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(reply) != "success" {
			t.Fatalf("POST %s: got %d %q, want 200 success", tc.body, resp.StatusCode, reply)
		}
		if f, s := counts(); f != tc.filtered || s != tc.sent {
			t.Errorf("after POST %s: filtered %s, sent %s; want %s and %s", tc.body, f, s, tc.filtered, tc.sent)
		}
	}
	if n := len(b.stored()); n != 1 {
		t.Errorf("broker stored %d events, want the 1 the filter passed", n)
	}
	m.stop(t)
}

// mainRun is host.Main running in the background for one test.
type mainRun struct {
	client *http.Client
	url    string // http://127.0.0.1:<port>, the EventSource's port
	cancel context.CancelFunc
	done   chan error
}

// startMain runs the webhook image's main with env until the test ends and
// waits until it answers /health on port.
func startMain(t *testing.T, env map[string]string, port string) *mainRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m := &mainRun{client: &http.Client{Timeout: 5 * time.Second}, url: "http://127.0.0.1:" + port, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- host.Main(ctx, webhook.Type, nil, func(k string) string { return env[k] }) }()
	t.Cleanup(cancel)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := m.client.Get(m.url + "/health")
		if err == nil {
			resp.Body.Close()
			return m
		}
		select {
		case err := <-m.done:
			t.Fatalf("Main returned early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook not serving: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop cancels Main and checks that it returns nil.
func (m *mainRun) stop(t *testing.T) {
	t.Helper()
	m.cancel()
	select {
	case err := <-m.done:
		if err != nil {
			t.Fatalf("Main = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Main did not return after cancel")
	}
}

// scrape returns the /metrics text of the source image's metrics port.
func scrape(t *testing.T, c *http.Client, metricsPort string) string {
	t.Helper()
	resp, err := c.Get("http://127.0.0.1:" + metricsPort + "/metrics")
	if err != nil {
		t.Fatalf("scraping metrics: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("scraping metrics: %v", err)
	}
	return string(b)
}

// sample returns the value of series in the Prometheus text, "" when absent.
func sample(text, series string) string {
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func TestMainFails(t *testing.T) {
	t.Parallel()
	doc := fmt.Sprintf(esYAML, "12000")
	tests := []struct {
		name    string
		key     string
		env     map[string]string
		wantErr string
	}{
		{name: "no eventsource", key: webhook.Type, env: map[string]string{"K_SINK": "http://b/"}, wantErr: "no eventsource"},
		{name: "no sink", key: webhook.Type, env: map[string]string{"EVENTSOURCE_OBJECT": doc}, wantErr: "K_SINK is not set"},
		{name: "unknown type", key: "nope", env: map[string]string{"EVENTSOURCE_OBJECT": doc, "K_SINK": "http://b/"}, wantErr: `source type "nope" is not registered`},
		{name: "bad log level", key: webhook.Type, env: map[string]string{"EVENTSOURCE_OBJECT": doc, "K_SINK": "http://b/", "LOG_LEVEL": "loud"}, wantErr: "LOG_LEVEL"},
		{name: "no webhook entries", key: webhook.Type, env: map[string]string{"EVENTSOURCE_OBJECT": "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\nmetadata:\n  name: x\nspec:\n  calendar:\n    tick: {interval: 10s}\n", "K_SINK": "http://b/"}, wantErr: "no spec.webhook entries"},
		{name: "bad overrides", key: webhook.Type, env: map[string]string{"EVENTSOURCE_OBJECT": doc, "K_SINK": "http://b/", "K_CE_OVERRIDES": `{"extensions":`}, wantErr: "decoding K_CE_OVERRIDES"},
		{name: "bad extension name", key: webhook.Type, env: map[string]string{"EVENTSOURCE_OBJECT": doc, "K_SINK": "http://b/", "K_CE_OVERRIDES": `{"extensions":{"Not-Valid":"x"}}`}, wantErr: `extension "Not-Valid"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := host.Main(context.Background(), tc.key, nil, func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Main = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	return strconv.Itoa(freeport.Port(t))
}
