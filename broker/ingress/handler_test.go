package ingress_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"

	"github.com/flintevents/flint/broker/ingress"
	"github.com/flintevents/flint/broker/internal/brokertest"
	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/broker/internal/wire"
	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// fixture is an ingress over a real embedded JetStream with one broker, default/b1.
type fixture struct {
	srv    *natsd.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	url    string
	stream string
	h      *ingress.Handler
}

func newFixture(t *testing.T, cfg ingress.Config) *fixture {
	t.Helper()
	return newFixtureWith(t, cfg, natsd.Options{Port: -1}, nil)
}

// newFixtureWith is newFixture over a server started with opts; wrap, when set, stands
// between the ingress and the real publisher.
func newFixtureWith(t *testing.T, cfg ingress.Config, opts natsd.Options, wrap func(ingress.Publisher) ingress.Publisher) *fixture {
	t.Helper()
	srv := natsdtest.RunWith(t, opts)
	nc := natsdtest.ConnectTo(t, srv)
	js, err := jetstream.New(nc, bus.JetStreamOptions(64, time.Second)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := bus.EnsureStream(ctx, js, "default", "b1", bus.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	// A broker stream keeps events while a trigger has not settled them: one that never reads.
	if _, err := js.CreateOrUpdateConsumer(ctx, bus.StreamName("default", "b1"), jetstream.ConsumerConfig{
		Durable: bus.ConsumerName("default", "t", ""), AckPolicy: jetstream.AckExplicitPolicy,
	}); err != nil {
		t.Fatal(err)
	}
	reg := ingress.NewRegistry()
	reg.Set([]ingress.Target{{Namespace: "default", Name: "b1", Subject: bus.Subject("default", "b1")}})
	var pub ingress.Publisher = bus.NewPublisher(js)
	if wrap != nil {
		pub = wrap(pub)
	}
	h := ingress.New(reg, pub, cfg, zaptest.NewLogger(t))
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return &fixture{srv: srv, nc: nc, js: js, url: hs.URL, stream: bus.StreamName("default", "b1"), h: h}
}

func (f *fixture) msgs(t *testing.T) uint64 {
	t.Helper()
	s, err := f.js.Stream(context.Background(), f.stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// stored decodes the event at stream sequence seq.
func (f *fixture) stored(t *testing.T, seq uint64) *cloudevents.Event {
	t.Helper()
	s, err := f.js.Stream(context.Background(), f.stream)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.GetMsg(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := wire.Decode(raw.Data)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func binaryHeaders(omit string) http.Header {
	h := http.Header{
		"Ce-Specversion": {"1.0"},
		"Ce-Id":          {"e1"},
		"Ce-Source":      {"/src"},
		"Ce-Type":        {"t"},
		"Content-Type":   {"application/json"},
	}
	delete(h, omit)
	return h
}

func TestStatusCodes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ingress.Config{MaxEventSize: 1024})
	structured := http.Header{"Content-Type": {"application/cloudevents+json"}}
	tests := []struct {
		name       string
		method     string
		path       string
		header     http.Header
		body       string
		chunked    bool
		wantCode   int
		wantInBody string
		wantHeader map[string]string
	}{
		{name: "binary mode accepted", method: "POST", path: "/default/b1", header: binaryHeaders(""), body: `{"a":1}`, wantCode: 202},
		{name: "structured mode accepted", method: "POST", path: "/default/b1", header: structured,
			body: `{"specversion":"1.0","id":"s1","source":"/src","type":"t","data":{"a":1}}`, wantCode: 202},
		{name: "trailing slash accepted", method: "POST", path: "/default/b1/", header: binaryHeaders(""), wantCode: 202},
		{name: "binary without id", method: "POST", path: "/default/b1", header: binaryHeaders("Ce-Id"), wantCode: 400, wantInBody: "id"},
		{name: "binary without source", method: "POST", path: "/default/b1", header: binaryHeaders("Ce-Source"), wantCode: 400, wantInBody: "source"},
		{name: "binary without type", method: "POST", path: "/default/b1", header: binaryHeaders("Ce-Type"), wantCode: 400, wantInBody: "type"},
		{name: "without specversion", method: "POST", path: "/default/b1", header: binaryHeaders("Ce-Specversion"), wantCode: 400, wantInBody: "specversion"},
		{name: "structured unparsable", method: "POST", path: "/default/b1", header: structured, body: `{"specversion":`, wantCode: 400},
		{name: "structured without id", method: "POST", path: "/default/b1", header: structured,
			body: `{"specversion":"1.0","source":"/src","type":"t"}`, wantCode: 400, wantInBody: "id"},
		{name: "ttl spent", method: "POST", path: "/default/b1", header: withHeader(binaryHeaders(""), "Ce-Knativebrokerttl", "1"), wantCode: 400, wantInBody: "knativebrokerttl"},
		{name: "path too long", method: "POST", path: "/default/b1/x", header: binaryHeaders(""), wantCode: 400, wantInBody: "malformed path"},
		{name: "path too short", method: "POST", path: "/default", header: binaryHeaders(""), wantCode: 400, wantInBody: "malformed path"},
		{name: "root path", method: "POST", path: "/", header: binaryHeaders(""), wantCode: 404},
		{name: "unknown broker", method: "POST", path: "/default/nope", header: binaryHeaders(""), wantCode: 404, wantInBody: "not found"},
		{name: "unknown namespace", method: "POST", path: "/other/b1", header: binaryHeaders(""), wantCode: 404},
		{name: "GET not allowed", method: "GET", path: "/default/b1", wantCode: 405, wantHeader: map[string]string{"Allow": "POST, OPTIONS"}},
		{name: "PUT not allowed", method: "PUT", path: "/default/b1", wantCode: 405, wantHeader: map[string]string{"Allow": "POST, OPTIONS"}},
		{name: "too large by content-length", method: "POST", path: "/default/b1", header: binaryHeaders(""), body: strings.Repeat("x", 1025), wantCode: 413},
		{name: "too large chunked", method: "POST", path: "/default/b1", header: binaryHeaders(""), body: strings.Repeat("x", 4096), chunked: true, wantCode: 413},
		{name: "at the limit", method: "POST", path: "/default/b1", header: withHeader(binaryHeaders(""), "Ce-Id", "big"), body: strings.Repeat("x", 1024), wantCode: 202},
		{name: "options", method: "OPTIONS", path: "/default/b1", wantCode: 200, wantHeader: map[string]string{
			"Allow": "POST, OPTIONS", "Webhook-Allowed-Origin": "*", "Webhook-Allowed-Rate": "*"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, f.url+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header[k] = v
			}
			if tc.chunked {
				req.ContentLength = -1 // unknown length: sent chunked
				req.Body = io.NopCloser(io.MultiReader(strings.NewReader(tc.body)))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got := new(strings.Builder)
			_, _ = io.Copy(got, resp.Body)
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("status = %d, want %d (body %q)", resp.StatusCode, tc.wantCode, got)
			}
			if tc.wantInBody != "" && !strings.Contains(got.String(), tc.wantInBody) {
				t.Errorf("body %q does not mention %q", got, tc.wantInBody)
			}
			for k, v := range tc.wantHeader {
				if resp.Header.Get(k) != v {
					t.Errorf("header %s = %q, want %q", k, resp.Header.Get(k), v)
				}
			}
		})
	}
}

func TestDuplicatesStoredOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ingress.Config{})
	send := func(id, source string) {
		ev := brokertest.NewEvent(id, "t")
		ev.SetSource(source)
		brokertest.MustPost(t, f.url+"/default/b1", ev, http.StatusAccepted)
	}
	send("dup", "/a")
	send("dup", "/a")
	send("dup", "/a")
	if n := f.msgs(t); n != 1 {
		t.Fatalf("stream holds %d messages after 3 identical posts, want 1", n)
	}
	send("dup", "/b") // same id, other source: a different event
	send("other", "/a")
	if n := f.msgs(t); n != 3 {
		t.Fatalf("stream holds %d messages, want 3", n)
	}
}

func TestTTLStamped(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ingress.Config{DefaultTTL: 50})
	tests := []struct {
		name string
		ttl  any
		want int32
	}{
		{name: "missing gets default", ttl: nil, want: 50},
		{name: "present is decremented", ttl: int32(7), want: 6},
		{name: "string is decremented", ttl: "2", want: 1},
	}
	for i, tc := range tests { // sequential: each checks the next stream sequence
		ev := brokertest.NewEvent(tc.name, "t")
		if tc.ttl != nil {
			ev.SetExtension(wire.TTLExtension, tc.ttl)
		}
		brokertest.MustPost(t, f.url+"/default/b1", ev, http.StatusAccepted)
		got, ok := wire.TTL(f.stored(t, uint64(i+1)))
		if !ok || got != tc.want {
			t.Errorf("%s: stored ttl = %d (present %v), want %d", tc.name, got, ok, tc.want)
		}
	}
}

func TestAttributesPreserved(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ingress.Config{})
	ev := brokertest.NewEvent("attrs", "webhook")
	ev.SetSubject("example")
	ev.SetTime(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	ev.SetDataSchema("https://schema.example/x")
	ev.SetExtension("myext", "v1")
	ev.SetExtension("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	brokertest.MustPost(t, f.url+"/default/b1", ev, http.StatusAccepted)
	got := f.stored(t, 1)
	wire.RemoveTTL(got)
	for _, c := range [][2]string{
		{got.ID(), ev.ID()}, {got.Source(), ev.Source()}, {got.Type(), ev.Type()}, {got.Subject(), ev.Subject()},
		{got.DataSchema(), ev.DataSchema()}, {got.DataContentType(), ev.DataContentType()},
		{got.Time().String(), ev.Time().String()}, {string(got.Data()), string(ev.Data())},
		{got.Extensions()["myext"].(string), "v1"}, {got.Extensions()["traceparent"].(string), ev.Extensions()["traceparent"].(string)},
	} {
		if c[0] != c[1] {
			t.Errorf("stored %q, want %q", c[0], c[1])
		}
	}
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ingress.Config{PublishTimeout: 300 * time.Millisecond, StoreTimeout: time.Second})
	brokertest.MustPost(t, f.url+"/default/b1", brokertest.NewEvent("before", "t"), http.StatusAccepted)

	// The client keeps reconnecting and holds the event to send on reconnect: it may
	// yet be stored, so the answer is 504, not a 503 that says it is not.
	f.srv.Shutdown()
	start := time.Now()
	brokertest.MustPost(t, f.url+"/default/b1", brokertest.NewEvent("while-down", "t"), http.StatusGatewayTimeout)
	if d := time.Since(start); d < time.Second {
		t.Errorf("504 after %s, before the store timeout of 1s", d)
	}

	f.nc.Close() // a closed connection fails at once: surely not stored
	start = time.Now()
	brokertest.MustPost(t, f.url+"/default/b1", brokertest.NewEvent("closed", "t"), http.StatusServiceUnavailable)
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("closed connection took %s to fail", d)
	}
}

// TestShortOutageIsWaitedFor: an event posted while JetStream is down for longer
// than one acknowledgement is awaited, but less than StoreTimeout, is sent again under
// the same id until JetStream is back: it is answered 202 and stored once.
func TestShortOutageIsWaitedFor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ingress.Config{PublishTimeout: 300 * time.Millisecond, StoreTimeout: 20 * time.Second})
	brokertest.MustPost(t, f.url+"/default/b1", brokertest.NewEvent("before", "t"), http.StatusAccepted)

	f.srv.Shutdown()
	answered := make(chan int, 1)
	go func() {
		code, err := brokertest.Post(context.Background(), &http.Client{Timeout: time.Minute}, f.url+"/default/b1", brokertest.NewEvent("while-down", "t"))
		if err != nil {
			t.Errorf("posting while-down: %v", err)
		}
		answered <- code
	}()
	time.Sleep(2 * time.Second) // several attempts go unanswered
	natsdtest.RunWith(t, natsd.Options{StoreDir: f.srv.StoreDir(), Port: f.srv.Port()})
	if code := <-answered; code != http.StatusAccepted {
		t.Fatalf("posting while-down: status %d, want 202 once JetStream is back", code)
	}
	time.Sleep(500 * time.Millisecond) // attempts still in the client's buffer arrive
	if n := f.msgs(t); n != 2 {
		t.Fatalf("stream holds %d events, want 2: before, and while-down once", n)
	}
	if got := f.stored(t, 2).ID(); got != "while-down" {
		t.Errorf("second event stored is %q, want while-down", got)
	}
}

func withHeader(h http.Header, k, v string) http.Header {
	h[k] = []string{v}
	return h
}
