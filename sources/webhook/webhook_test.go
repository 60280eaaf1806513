package webhook_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/freeport"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/receiver"
	"github.com/flintevents/flint/sources/sink"
	"github.com/flintevents/flint/sources/sourcetest"
	"github.com/flintevents/flint/sources/webhook"
)

const esName = "webhook-es"

// recorder is a fake broker that keeps what it stored; events whose subject is
// in fail are refused as by a broker out of reach, those in tooLarge as by a
// broker refusing their size.
type recorder struct {
	mu       sync.Mutex
	events   []cloudevents.Event
	fail     map[string]bool
	tooLarge map[string]bool
	unsure   map[string]bool // the broker did not confirm in time
}

func (r *recorder) emit(_ context.Context, ev cloudevents.Event) error {
	if r.fail[ev.Subject()] {
		return errors.New("broker unavailable")
	}
	if r.unsure[ev.Subject()] {
		return sources.NotConfirmed(fmt.Errorf("emitting event %s: no acknowledgement", ev.ID()))
	}
	if r.tooLarge[ev.Subject()] {
		const reason = "accepting event of 1048577 bytes, limit 1048576: event too large"
		return sources.TooLarge(reason, fmt.Errorf("emitting event %s: %s", ev.ID(), reason))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder) take() []cloudevents.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func eventSource(entries map[string]v1alpha1.WebhookEventSource) *v1alpha1.EventSource {
	return &v1alpha1.EventSource{
		ObjectMeta: metav1.ObjectMeta{Name: esName, Namespace: "default"},
		Spec:       v1alpha1.EventSourceSpec{Webhook: entries},
	}
}

func entry(endpoint, method, port string) v1alpha1.WebhookEventSource {
	return v1alpha1.WebhookEventSource{WebhookContext: v1alpha1.WebhookContext{Endpoint: endpoint, Method: method, Port: port}}
}

func ref(name, key string) *corev1.SecretKeySelector {
	return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
}

// secrets resolves references from an in-memory map of name/key → value.
func secrets(values map[string]string) secret.Resolver {
	env := map[string]string{}
	for nk, v := range values {
		name, key, _ := strings.Cut(nk, "/")
		env[secret.EnvName(name, key)] = v
	}
	return secret.Local{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
}

type running struct {
	*sourcetest.Running
	rcv *receiver.Receiver
}

// stamping are the host options and receiver settings a test runs with.
type stamping struct {
	stamp           host.StampOptions
	shutdownTimeout time.Duration
}

// start runs a Source and its receiver on 127.0.0.1 until the test ends, with
// every event stamped by the host into the CloudEvent that emit stores.
func start(t testing.TB, es *v1alpha1.EventSource, deps sources.Deps, emit host.Sink, opts ...stamping) *running {
	t.Helper()
	var o stamping
	if len(opts) > 0 {
		o = opts[0]
	}
	if deps.Logger == nil {
		deps.Logger = zap.NewNop()
		if tt, ok := t.(*testing.T); ok {
			deps.Logger = zaptest.NewLogger(tt)
		}
	}
	deps.Receiver = sourcetest.NewReceiver(deps, o.shutdownTimeout)
	src, err := webhook.New(es, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	stamped, err := host.Stamp(es.Name, webhook.Type, emit, o.stamp)
	if err != nil {
		t.Fatalf("Stamp: %v", err)
	}
	return &running{Running: sourcetest.StartBuilt(t, deps.Receiver, src, stamped), rcv: deps.Receiver}
}

func (r *running) url(port, path string) string { return r.URL(port, path) }

func client(t testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

type response struct {
	status int
	body   string
	header http.Header
}

func do(t testing.TB, c *http.Client, method, url string, header http.Header, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, body: string(b), header: resp.Header}
}

func TestStatusCodes(t *testing.T) {
	t.Parallel()
	limited := entry("/limited", "POST", "0")
	limited.MaxPayloadSize = new(int64(16))
	secured := entry("/secured", "POST", "0")
	secured.AuthSecret = ref("hook", "token")
	basic := entry("/basic", "POST", "0")
	basic.BasicAuth = &v1alpha1.BasicAuth{Username: ref("basic", "user"), Password: ref("basic", "pass")}
	es := eventSource(map[string]v1alpha1.WebhookEventSource{
		"example": entry("/example", "POST", "0"),
		"lower":   entry("lower", "put", "0"),
		"query":   entry("/query", "GET", "0"),
		"limited": limited,
		"secured": secured,
		"basic":   basic,
		"failing": entry("/failing", "POST", "0"),
		"huge":    entry("/huge", "POST", "0"),
		"unsure":  entry("/unsure", "POST", "0"),
	})
	rec := &recorder{fail: map[string]bool{"failing": true}, tooLarge: map[string]bool{"huge": true}, unsure: map[string]bool{"unsure": true}}
	const deeper = "; the event data holds the body one level deeper, and sensors take data nested at most 1000 levels"
	deps := sources.Deps{Secrets: secrets(map[string]string{"hook/token": "s3cret", "basic/user": "ann", "basic/pass": "pw"})}
	r := start(t, es, deps, rec.emit)
	c := client(t)

	type body = func() io.Reader
	text := func(s string) body { return func() io.Reader { return strings.NewReader(s) } }
	// chunked hides the length, so that only the body reader can enforce the limit.
	chunked := func(s string) body { return func() io.Reader { return io.MultiReader(strings.NewReader(s)) } }
	tests := []struct {
		name       string
		method     string
		path       string
		header     http.Header
		body       body
		status     int
		reply      string
		allow      string
		authn      string
		retryAfter string
		wantEvent  string // subject of the event that must have been stored
	}{
		{name: "accepted", method: "POST", path: "/example", body: text(`{"a":1}`), status: 200, reply: "success", wantEvent: "example"},
		{name: "endpoint without slash, lower-case method", method: "PUT", path: "/lower", body: text("x"), status: 200, reply: "success", wantEvent: "lower"},
		{name: "GET endpoint", method: "GET", path: "/query?a=1", status: 200, reply: "success", wantEvent: "query"},
		{name: "wrong method", method: "GET", path: "/example", status: 405, reply: "method not allowed", allow: "POST"},
		{name: "wrong method on GET endpoint", method: "POST", path: "/query", body: text("x"), status: 405, reply: "method not allowed", allow: "GET"},
		{name: "unknown path", method: "POST", path: "/nope", body: text("x"), status: 404, reply: "not found"},
		{name: "prefix of an endpoint", method: "POST", path: "/example/more", body: text("x"), status: 404, reply: "not found"},
		{name: "health", method: "GET", path: "/health", status: 200, reply: "OK"},
		{name: "at the size limit", method: "POST", path: "/limited", body: text(strings.Repeat("a", 16)), status: 200, reply: "success", wantEvent: "limited"},
		{name: "over the size limit by Content-Length", method: "POST", path: "/limited", body: text(strings.Repeat("a", 17)), status: 413, reply: "request too large"},
		{name: "over the size limit, chunked", method: "POST", path: "/limited", body: chunked(strings.Repeat("a", 17)), status: 413, reply: "request too large"},
		{name: "over the default 1 MiB limit", method: "POST", path: "/example", body: text(strings.Repeat("a", 1<<20+1)), status: 413, reply: "request too large"},
		{name: "bearer token good", method: "POST", path: "/secured", header: http.Header{"Authorization": {"Bearer s3cret"}}, body: text("x"), status: 200, reply: "success", wantEvent: "secured"},
		{name: "bearer scheme is case-insensitive", method: "POST", path: "/secured", header: http.Header{"Authorization": {"bearer s3cret"}}, body: text("x"), status: 200, reply: "success", wantEvent: "secured"},
		{name: "bearer token bad", method: "POST", path: "/secured", header: http.Header{"Authorization": {"Bearer s3cre"}}, body: text("x"), status: 401, reply: "unauthorized", authn: `Bearer realm="webhook"`},
		{name: "bearer token missing", method: "POST", path: "/secured", body: text("x"), status: 401, reply: "unauthorized", authn: `Bearer realm="webhook"`},
		{name: "basic scheme for bearer secret", method: "POST", path: "/secured", header: http.Header{"Authorization": {"Basic s3cret"}}, body: text("x"), status: 401, reply: "unauthorized", authn: `Bearer realm="webhook"`},
		{name: "auth checked before method", method: "GET", path: "/secured", status: 401, reply: "unauthorized", authn: `Bearer realm="webhook"`},
		{name: "basic auth good", method: "POST", path: "/basic", header: http.Header{"Authorization": {"Basic YW5uOnB3"}}, body: text("x"), status: 200, reply: "success", wantEvent: "basic"},
		{name: "basic auth bad password", method: "POST", path: "/basic", header: http.Header{"Authorization": {"Basic YW5uOnB4"}}, body: text("x"), status: 401, reply: "unauthorized", authn: `Basic realm="webhook"`},
		{name: "emit fails", method: "POST", path: "/failing", body: text("x"), status: 503, reply: "failed to record event", retryAfter: "1"},
		{name: "emit not confirmed in time", method: "POST", path: "/unsure", body: text("x"), status: 504,
			reply: "event not confirmed in time: it may have been recorded"},
		{name: "emit refused for its size", method: "POST", path: "/huge", body: text("x"), status: 413,
			reply: "accepting event of 1048577 bytes, limit 1048576: event too large"},
		// The event data holds the body one level deeper: a sensor takes data
		// nested at most 1,000 levels.
		{name: "JSON nested 999 deep", method: "POST", path: "/example", body: text(strings.Repeat("[", 999) + strings.Repeat("]", 999)),
			status: 200, reply: "success", wantEvent: "example"},
		{name: "JSON nested 1000 deep", method: "POST", path: "/example", body: text(strings.Repeat("[", 1000) + strings.Repeat("]", 1000)),
			status: 400, reply: "invalid body: JSON nesting too deep: more than 999 levels of nesting (at byte 999)" + deeper},
		{name: "a megabyte of [", method: "POST", path: "/example", body: text(strings.Repeat("[", 1<<20-1)),
			status: 400, reply: "invalid body: JSON nesting too deep: more than 999 levels of nesting (at byte 999)" + deeper},
		{name: "deep objects", method: "POST", path: "/example", body: text(strings.Repeat(`{"a":`, 1000) + "1" + strings.Repeat("}", 1000)),
			status: 400, reply: "invalid body: JSON nesting too deep: more than 999 levels of nesting (at byte 4995)" + deeper},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: each case owns the recorder while it runs.
			var b io.Reader
			if tc.body != nil {
				b = tc.body()
			}
			got := do(t, c, tc.method, r.url("0", tc.path), tc.header, b)
			if got.status != tc.status || got.body != tc.reply {
				t.Fatalf("got %d %q, want %d %q", got.status, got.body, tc.status, tc.reply)
			}
			if a := got.header.Get("Allow"); a != tc.allow {
				t.Errorf("Allow = %q, want %q", a, tc.allow)
			}
			if a := got.header.Get("WWW-Authenticate"); a != tc.authn {
				t.Errorf("WWW-Authenticate = %q, want %q", a, tc.authn)
			}
			if a := got.header.Get("Retry-After"); a != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", a, tc.retryAfter)
			}
			evs := rec.take()
			switch {
			case tc.wantEvent == "" && len(evs) != 0:
				t.Errorf("stored %d events, want none", len(evs))
			case tc.wantEvent != "" && (len(evs) != 1 || evs[0].Subject() != tc.wantEvent):
				t.Errorf("stored %v, want one event with subject %q", evs, tc.wantEvent)
			}
		})
	}
}

// webhookData is the event data of a webhook event.
type webhookData struct {
	Header   map[string][]string `json:"header"`
	Body     json.RawMessage     `json:"body"`
	Metadata map[string]string   `json:"metadata"`
}

func TestEventData(t *testing.T) {
	t.Parallel()
	withMeta := entry("/meta", "POST", "0")
	withMeta.Metadata = map[string]string{"team": "infra", "env": "prod"}
	es := eventSource(map[string]v1alpha1.WebhookEventSource{
		"post": entry("/post", "POST", "0"),
		"get":  entry("/get", "GET", "0"),
		"meta": withMeta,
	})
	rec := &recorder{}
	r := start(t, es, sources.Deps{}, rec.emit)
	c := client(t)

	tests := []struct {
		name     string
		method   string
		path     string
		header   http.Header
		body     string
		wantBody string
		wantHdr  map[string][]string
		wantMeta map[string]string
	}{
		{name: "JSON with text/plain", method: "POST", path: "/post", header: http.Header{"Content-Type": {"text/plain"}}, body: `{"message":"hi"}`, wantBody: `{"message":"hi"}`},
		{name: "JSON without content type is compacted", method: "POST", path: "/post", body: "{ \"a\" : [1, 2],\n \"b\": null }", wantBody: `{"a":[1,2],"b":null}`},
		{name: "whitespace inside strings is kept", method: "POST", path: "/post", body: "{\"a\": \"x y\\\" \\\\\" , \"b\" : [ 1 ]}", wantBody: `{"a":"x y\" \\","b":[1]}`},
		{name: "JSON array", method: "POST", path: "/post", body: "[1, \"two\"]", wantBody: `[1,"two"]`},
		{name: "JSON scalar with surrounding whitespace", method: "POST", path: "/post", body: " \t42\r\n", wantBody: `42`},
		{name: "JSON string", method: "POST", path: "/post", body: `"hi"`, wantBody: `"hi"`},
		{name: "JSON followed by text is text", method: "POST", path: "/post", body: `{"a":1} x`, wantBody: `"{\"a\":1} x"`},
		{name: "JSON scalar", method: "POST", path: "/post", header: http.Header{"Content-Type": {"application/json"}}, body: `42`, wantBody: `42`},
		{name: "form", method: "POST", path: "/post", header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}, body: "a=1&a=2&b=x+y", wantBody: `{"a":["1","2"],"b":["x y"]}`},
		{name: "form body that is JSON stays JSON", method: "POST", path: "/post", header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body: `{"a":1}`, wantBody: `{"a":1}`},
		// curl -d sends this content type unless told otherwise; Argo parses
		// the JSON as a form: {"{\"message\":\"x y\"}":[""]}.
		{name: "curl -d with JSON and no content type", method: "POST", path: "/post", header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
			body: `{"message":"x+y"}`, wantBody: `{"message":"x+y"}`},
		{name: "GET query", method: "GET", path: "/get?repo=flint&tag=a&tag=b", wantBody: `{"repo":["flint"],"tag":["a","b"]}`},
		{name: "GET without query", method: "GET", path: "/get", wantBody: `{}`},
		{name: "plain text", method: "POST", path: "/post", header: http.Header{"Content-Type": {"text/plain"}}, body: "hello \"world\"\n", wantBody: `"hello \"world\"\n"`},
		{name: "text that only looks like a form", method: "POST", path: "/post", header: http.Header{"Content-Type": {"text/plain"}}, body: "a=1", wantBody: `"a=1"`},
		{name: "empty body", method: "POST", path: "/post", wantBody: `null`},
		{
			name: "headers are lists, Authorization is masked", method: "POST", path: "/post",
			header:   http.Header{"X-Multi": {"one", "two"}, "Authorization": {"Bearer token"}, "Content-Type": {"application/json"}},
			body:     `{}`,
			wantBody: `{}`,
			wantHdr: map[string][]string{
				"X-Multi":       {"one", "two"},
				"Authorization": {"*** Masked Auth Secret ***"},
				"Content-Type":  {"application/json"},
			},
		},
		{name: "metadata", method: "POST", path: "/meta", body: `{"a":1}`, wantBody: `{"a":1}`, wantMeta: map[string]string{"team": "infra", "env": "prod"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := do(t, c, tc.method, r.url("0", tc.path), tc.header, strings.NewReader(tc.body))
			if got.status != 200 || got.body != "success" {
				t.Fatalf("got %d %q, want 200 success", got.status, got.body)
			}
			evs := rec.take()
			if len(evs) != 1 {
				t.Fatalf("stored %d events, want 1", len(evs))
			}
			if ct := evs[0].DataContentType(); ct != "application/json" {
				t.Errorf("datacontenttype = %q", ct)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(evs[0].Data(), &raw); err != nil {
				t.Fatalf("data is not a JSON object: %v: %s", err, evs[0].Data())
			}
			if _, has := raw["metadata"]; has != (tc.wantMeta != nil) {
				t.Errorf("metadata present = %v, want %v: %s", has, tc.wantMeta != nil, evs[0].Data())
			}
			var d webhookData
			if err := json.Unmarshal(evs[0].Data(), &d); err != nil {
				t.Fatal(err)
			}
			if string(d.Body) != tc.wantBody {
				t.Errorf("body = %s, want %s", d.Body, tc.wantBody)
			}
			for k, want := range tc.wantHdr {
				if got := d.Header[k]; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("header[%s] = %q, want %q", k, got, want)
				}
			}
			if ua := d.Header["User-Agent"]; len(ua) != 1 {
				t.Errorf("header User-Agent = %q, want the client's one value", ua)
			}
			if fmt.Sprint(d.Metadata) != fmt.Sprint(tc.wantMeta) {
				t.Errorf("metadata = %v, want %v", d.Metadata, tc.wantMeta)
			}
		})
	}
}

func TestCloudEvent(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 7, 1, 12, 30, 0, 123456789, time.UTC)
	es := eventSource(map[string]v1alpha1.WebhookEventSource{"webhook_example": entry("/example", "POST", "0")})
	rec := &recorder{}
	r := start(t, es, sources.Deps{}, rec.emit, stamping{stamp: host.StampOptions{
		Now:        func() time.Time { return at },
		Extensions: map[string]string{"team": "infra"},
	}})

	// A raw request, so that the headers the event carries are exactly known.
	conn, err := net.Dial("tcp", r.rcv.Addr("0").String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	send := func() {
		t.Helper()
		const body = `{"message":"hi"}`
		fmt.Fprintf(conn, "POST /example HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
	br := bufio.NewReader(conn)
	for range 2 {
		send()
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "success" {
			t.Fatalf("got %d %q", resp.StatusCode, b)
		}
	}
	evs := rec.take()
	if len(evs) != 2 {
		t.Fatalf("stored %d events, want 2", len(evs))
	}
	ev := evs[0]
	if err := ev.Validate(); err != nil {
		t.Fatalf("invalid CloudEvent: %v", err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(ev.ID()) {
		t.Errorf("id = %q, want 32 hex characters", ev.ID())
	}
	if evs[1].ID() == ev.ID() {
		t.Errorf("two events share id %s", ev.ID())
	}
	want := cloudevents.NewEvent()
	want.SetID(ev.ID())
	want.SetSource(esName)
	want.SetSubject("webhook_example")
	want.SetType("webhook")
	want.SetTime(at)
	want.SetExtension("team", "infra")
	want.SetDataContentType("application/json")
	want.DataEncoded = []byte(`{"header":{"Content-Length":["16"],"Content-Type":["text/plain"]},"body":{"message":"hi"}}`)
	if ev.String() != want.String() {
		t.Errorf("event:\n%s\nwant:\n%s", ev, want)
	}
	if string(ev.Data()) != string(want.Data()) {
		t.Errorf("data = %s\nwant   %s", ev.Data(), want.Data())
	}
}

func TestSharedPort(t *testing.T) {
	t.Parallel()
	other := freePort(t)
	es := eventSource(map[string]v1alpha1.WebhookEventSource{
		"a": entry("/a", "POST", "0"),
		"b": entry("/b", "PUT", "0"),
		"c": entry("/a", "POST", other),
	})
	rec := &recorder{}
	r := start(t, es, sources.Deps{}, rec.emit)
	c := client(t)
	if r.rcv.Addr(other).String() != "127.0.0.1:"+other {
		t.Fatalf("Addr(%s) = %v", other, r.rcv.Addr(other))
	}
	for _, tc := range []struct{ method, port, path, subject string }{
		{"POST", "0", "/a", "a"},
		{"PUT", "0", "/b", "b"},
		{"POST", other, "/a", "c"},
	} {
		got := do(t, c, tc.method, r.url(tc.port, tc.path), nil, strings.NewReader("x"))
		if got.status != 200 {
			t.Fatalf("%s :%s%s: %d %q", tc.method, tc.port, tc.path, got.status, got.body)
		}
		evs := rec.take()
		if len(evs) != 1 || evs[0].Subject() != tc.subject {
			t.Fatalf("%s :%s%s stored %v, want subject %s", tc.method, tc.port, tc.path, evs, tc.subject)
		}
	}
	for _, port := range []string{"0", other} {
		if got := do(t, c, "GET", r.url(port, "/health"), nil, nil); got.status != 200 {
			t.Errorf("health on %s: %d", port, got.status)
		}
	}
	if got := do(t, c, "POST", r.url(other, "/b"), nil, strings.NewReader("x")); got.status != 404 {
		t.Errorf("/b on the other port: %d, want 404", got.status)
	}
}

func TestFilterExpression(t *testing.T) {
	t.Parallel()
	filtered := entry("/filtered", "POST", "0")
	filtered.Filter = &v1alpha1.EventSourceFilter{Expression: `body.action == "opened" && asInt(body.n) > 1`}
	es := eventSource(map[string]v1alpha1.WebhookEventSource{"filtered": filtered})
	core, logs := observer.New(zapcore.DebugLevel)
	rec := &recorder{}
	r := start(t, es, sources.Deps{Logger: zap.New(core)}, rec.emit)
	c := client(t)

	tests := []struct {
		name   string
		body   string
		pass   bool
		reason string
	}{
		{name: "pass", body: `{"action":"opened","n":"2"}`, pass: true},
		{name: "false", body: `{"action":"closed","n":"2"}`, reason: "expression is false"},
		{name: "error", body: `{"action":"opened","n":"two"}`, reason: "asInt"},
		{name: "plain text body", body: `opened`, reason: "evaluating filter expression"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := do(t, c, "POST", r.url("0", "/filtered"), nil, strings.NewReader(tc.body))
			if got.status != 200 || got.body != "success" {
				t.Fatalf("got %d %q, want 200 success", got.status, got.body)
			}
			evs := rec.take()
			var dropped []observer.LoggedEntry
			for _, e := range logs.TakeAll() {
				if e.Message == "event dropped by filter" {
					dropped = append(dropped, e)
				}
			}
			if tc.pass {
				if len(evs) != 1 || len(dropped) != 0 {
					t.Fatalf("stored %d events, %d drop logs; want 1 event, no drop log", len(evs), len(dropped))
				}
				return
			}
			if len(evs) != 0 {
				t.Fatalf("stored %d events, want none", len(evs))
			}
			if len(dropped) != 1 {
				t.Fatalf("%d drop log lines, want 1", len(dropped))
			}
			fields := dropped[0].ContextMap()
			if dropped[0].Level != zapcore.DebugLevel || !strings.Contains(fmt.Sprint(fields["reason"]), tc.reason) ||
				fields["eventName"] != "filtered" || fields["eventSource"] != esName {
				t.Errorf("drop log = %v %v, want debug with reason containing %q", dropped[0].Level, fields, tc.reason)
			}
		})
	}
}

// gate is an Emitter that blocks until released, reporting when it is entered.
type gate struct {
	entered chan struct{}
	release chan struct{}
	err     error
}

func newGate(err error) *gate {
	return &gate{entered: make(chan struct{}, 1), release: make(chan struct{}), err: err}
}

func (g *gate) emit(ctx context.Context, _ cloudevents.Event) error {
	g.entered <- struct{}{}
	select {
	case <-g.release:
		return g.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestReplyWaitsForEmit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		err    error
		status int
	}{
		{name: "stored", status: 200},
		{name: "refused", err: errors.New("nack"), status: 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGate(tc.err)
			r := start(t, eventSource(map[string]v1alpha1.WebhookEventSource{"e": entry("/e", "POST", "0")}), sources.Deps{}, g.emit)
			c := client(t)
			got := make(chan response, 1)
			go func() { got <- do(t, c, "POST", r.url("0", "/e"), nil, strings.NewReader("x")) }()
			<-g.entered
			select {
			case resp := <-got:
				t.Fatalf("answered %d before emit returned", resp.status)
			case <-time.After(50 * time.Millisecond):
			}
			close(g.release)
			if resp := <-got; resp.status != tc.status {
				t.Fatalf("status %d, want %d", resp.status, tc.status)
			}
		})
	}
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	g := newGate(nil)
	es := eventSource(map[string]v1alpha1.WebhookEventSource{"e": entry("/e", "POST", "0")})
	deps := sources.Deps{Logger: zaptest.NewLogger(t)}
	rcv := sourcetest.NewReceiver(deps, 0)
	deps.Receiver = rcv
	src, err := webhook.New(es, deps)
	if err != nil {
		t.Fatal(err)
	}
	emit, err := host.Stamp(esName, webhook.Type, g.emit, host.StampOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rcvDone, srcDone := make(chan error, 1), make(chan error, 1)
	go func() { rcvDone <- rcv.Run(ctx) }()
	go func() { srcDone <- src.Run(ctx, emit) }()
	<-rcv.Ready()
	addr := rcv.Addr("0").String()

	c := client(t)
	inflight := make(chan response, 1)
	go func() { inflight <- do(t, c, "POST", "http://"+addr+"/e", nil, strings.NewReader("x")) }()
	<-g.entered
	cancel()

	// New connections are refused while the in-flight request is still served.
	checkFor(t, 5*time.Second, func() error {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			return errors.New("still accepting connections")
		}
		return nil
	})
	select {
	case err := <-rcvDone:
		t.Fatalf("receiver Run returned (%v) before the in-flight request finished", err)
	case err := <-srcDone:
		t.Fatalf("source Run returned (%v) before the in-flight request finished", err)
	default:
	}
	close(g.release)
	if resp := <-inflight; resp.status != 200 || resp.body != "success" {
		t.Fatalf("in-flight request got %d %q, want 200 success", resp.status, resp.body)
	}
	for name, done := range map[string]chan error{"receiver": rcvDone, "source": srcDone} {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s Run = %v, want nil", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s Run did not return after shutdown", name)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port not released: %v", err)
	}
	ln.Close()
	if err := src.Run(context.Background(), emit); err == nil {
		t.Error("second Run succeeded, want error")
	}
}

func TestShutdownTimeoutClosesStuckRequests(t *testing.T) {
	t.Parallel()
	g := newGate(nil)
	es := eventSource(map[string]v1alpha1.WebhookEventSource{"e": entry("/e", "POST", "0")})
	r := start(t, es, sources.Deps{}, g.emit, stamping{shutdownTimeout: 50 * time.Millisecond})
	c := client(t)
	go func() {
		req, _ := http.NewRequest("POST", r.url("0", "/e"), strings.NewReader("x"))
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-g.entered
	if err := r.Stop(5 * time.Second); err != nil {
		t.Fatalf("Run did not return after the shutdown timeout: %v", err)
	}
	close(g.release)
}

func TestTLS(t *testing.T) {
	t.Parallel()
	certPEM, keyPEM, pool := selfSigned(t)
	tlsEntry := entry("/secure", "POST", "0")
	tlsEntry.ServerCertSecret = ref("tls", "crt")
	tlsEntry.ServerKeySecret = ref("tls", "key")
	es := eventSource(map[string]v1alpha1.WebhookEventSource{"secure": tlsEntry})
	rec := &recorder{}
	r := start(t, es, sources.Deps{Secrets: secrets(map[string]string{"tls/crt": certPEM, "tls/key": keyPEM})}, rec.emit)

	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	addr := r.rcv.Addr("0").String()
	got := do(t, c, "POST", "https://"+addr+"/secure", nil, strings.NewReader(`{"a":1}`))
	if got.status != 200 || got.body != "success" {
		t.Fatalf("got %d %q", got.status, got.body)
	}
	if evs := rec.take(); len(evs) != 1 {
		t.Fatalf("stored %d events, want 1", len(evs))
	}
	plain := client(t)
	resp := do(t, plain, "POST", "http://"+addr+"/secure", nil, strings.NewReader(`{}`))
	if resp.status != http.StatusBadRequest {
		t.Errorf("plain HTTP to the TLS port: %d, want 400", resp.status)
	}
	if evs := rec.take(); len(evs) != 0 {
		t.Errorf("plain HTTP stored %d events", len(evs))
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	with := func(e v1alpha1.WebhookEventSource, f func(*v1alpha1.WebhookEventSource)) v1alpha1.WebhookEventSource {
		f(&e)
		return e
	}
	ok := entry("/a", "POST", "12000")
	res := secrets(nil)
	tests := []struct {
		name    string
		entries map[string]v1alpha1.WebhookEventSource
		noRes   bool
		wantErr []string
	}{
		{name: "no entries", entries: nil, wantErr: []string{"no spec.webhook entries"}},
		{name: "missing fields", entries: map[string]v1alpha1.WebhookEventSource{"e": {}}, wantErr: []string{
			"missing field(s): spec.webhook[e].endpoint", "invalid value: : spec.webhook[e].port"}},
		{name: "bad port", entries: map[string]v1alpha1.WebhookEventSource{"e": entry("/a", "POST", "70000")}, wantErr: []string{"spec.webhook[e].port"}},
		{name: "negative payload size", entries: map[string]v1alpha1.WebhookEventSource{"e": with(ok, func(e *v1alpha1.WebhookEventSource) { e.MaxPayloadSize = new(int64(-1)) })}, wantErr: []string{"spec.webhook[e].maxPayloadSize"}},
		{name: "cert without key", entries: map[string]v1alpha1.WebhookEventSource{"e": with(ok, func(e *v1alpha1.WebhookEventSource) { e.ServerCertSecret = ref("t", "c") })}, wantErr: []string{"serverCertSecret and serverKeySecret go together"}},
		{name: "bad filter", entries: map[string]v1alpha1.WebhookEventSource{"e": with(ok, func(e *v1alpha1.WebhookEventSource) {
			e.Filter = &v1alpha1.EventSourceFilter{Expression: "body.a =="}
		})}, wantErr: []string{"spec.webhook[e].filter.expression"}},
		{name: "auth and basic auth", entries: map[string]v1alpha1.WebhookEventSource{"e": with(ok, func(e *v1alpha1.WebhookEventSource) {
			e.AuthSecret = ref("a", "t")
			e.BasicAuth = &v1alpha1.BasicAuth{Username: ref("b", "u"), Password: ref("b", "p")}
		})}, wantErr: []string{"mutually exclusive"}},
		{name: "basic auth without password", entries: map[string]v1alpha1.WebhookEventSource{"e": with(ok, func(e *v1alpha1.WebhookEventSource) {
			e.BasicAuth = &v1alpha1.BasicAuth{Username: ref("b", "u")}
		})}, wantErr: []string{"username and password are both required: spec.webhook[e].basicAuth"}},
		{name: "duplicate endpoint on a port", entries: map[string]v1alpha1.WebhookEventSource{"a": ok, "b": ok},
			wantErr: []string{"port 12000 endpoint /a is already served by spec.webhook[a] of EventSource webhook-es: spec.webhook[b].endpoint"}},
		{name: "TLS and plain on one port", entries: map[string]v1alpha1.WebhookEventSource{
			"a": ok,
			"b": with(entry("/b", "POST", "12000"), func(e *v1alpha1.WebhookEventSource) {
				e.ServerCertSecret, e.ServerKeySecret = ref("t", "c"), ref("t", "k")
			}),
		}, wantErr: []string{"port 12000 also serves plain HTTP routes; TLS must be set on all of them: spec.webhook[b].serverCertSecret"}},
		{name: "two certificates on one port", entries: map[string]v1alpha1.WebhookEventSource{
			"a": with(ok, func(e *v1alpha1.WebhookEventSource) {
				e.ServerCertSecret, e.ServerKeySecret = ref("t", "c"), ref("t", "k")
			}),
			"b": with(entry("/b", "POST", "12000"), func(e *v1alpha1.WebhookEventSource) {
				e.ServerCertSecret, e.ServerKeySecret = ref("u", "c"), ref("u", "k")
			}),
		}, wantErr: []string{"already serves TLS with the secrets of spec.webhook[a]"}},
		{name: "secret without resolver", noRes: true, entries: map[string]v1alpha1.WebhookEventSource{"e": with(ok, func(e *v1alpha1.WebhookEventSource) { e.AuthSecret = ref("a", "t") })}, wantErr: []string{"no secret resolver"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			deps := sources.Deps{Secrets: res}
			if tc.noRes {
				deps.Secrets = nil
			}
			deps.Receiver = sourcetest.NewReceiver(deps, 0)
			_, err := webhook.New(eventSource(tc.entries), deps)
			if err == nil {
				t.Fatal("New succeeded, want error")
			}
			var fe *apis.FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error %v is a %T, want *apis.FieldError", err, err)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
	if _, err := webhook.New(nil, sources.Deps{Receiver: receiver.New(receiver.Options{})}); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := webhook.New(eventSource(map[string]v1alpha1.WebhookEventSource{"e": ok}), sources.Deps{}); err == nil {
		t.Error("New without a receiver succeeded")
	}
	if _, err := host.Stamp(esName, webhook.Type, (&recorder{}).emit, host.StampOptions{Extensions: map[string]string{"Bad-Name": "x"}}); err == nil {
		t.Error("Stamp with an invalid extension name succeeded")
	}
}

func TestRunFails(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() }) // subtests run after this function returns
	_, busyPort, _ := net.SplitHostPort(busy.Addr().String())
	secured := entry("/s", "POST", "0")
	secured.AuthSecret = ref("missing", "token")
	tests := []struct {
		name    string
		entries map[string]v1alpha1.WebhookEventSource
		wantErr string
	}{
		{name: "missing secret", entries: map[string]v1alpha1.WebhookEventSource{"s": secured}, wantErr: "eventsource webhook-es: spec.webhook[s].authSecret: resolving secret"},
		{name: "port in use", entries: map[string]v1alpha1.WebhookEventSource{"e": entry("/e", "POST", busyPort)}, wantErr: "spec.webhook[e].port of EventSource webhook-es: port " + busyPort + " is in use"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			deps := sources.Deps{Secrets: secrets(nil)}
			deps.Receiver = sourcetest.NewReceiver(deps, 0)
			src, err := webhook.New(eventSource(tc.entries), deps)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			emit, _ := host.Stamp(esName, webhook.Type, (&recorder{}).emit, host.StampOptions{})
			err = host.Run(ctx, deps.Receiver, func(ctx context.Context) error { return src.Run(ctx, emit) })
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Run = %v, want error containing %q", err, tc.wantErr)
			}
			if errors.Is(err, secret.ErrNotFound) != (tc.name == "missing secret") {
				t.Errorf("errors.Is(err, secret.ErrNotFound) wrong for %v", err)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	typ, ok := sources.Lookup(webhook.Type)
	factory := typ.Factory
	if !ok {
		t.Fatalf("type %q not registered", webhook.Type)
	}
	src, err := factory(eventSource(map[string]v1alpha1.WebhookEventSource{"e": entry("/e", "POST", "0")}), sources.Deps{Receiver: receiver.New(receiver.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(*webhook.Source); !ok {
		t.Fatalf("factory built %T", src)
	}
}

// BenchmarkRequestToEmit measures one POST through the source, with a no-op
// emitter and with the sink posting to a loopback broker that answers 202.
func BenchmarkRequestToEmit(b *testing.B) {
	broker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer broker.Close()
	out, err := sink.New(broker.URL)
	if err != nil {
		b.Fatal(err)
	}
	emitters := []struct {
		name string
		emit host.Sink
	}{
		{"emit=noop", func(context.Context, cloudevents.Event) error { return nil }},
		{"emit=sink", out.Emit},
	}
	for _, em := range emitters {
		for _, size := range []int{256, 16 << 10} {
			b.Run(fmt.Sprintf("%s/size=%d", em.name, size), func(b *testing.B) {
				r := start(b, eventSource(map[string]v1alpha1.WebhookEventSource{"e": entry("/e", "POST", "0")}), sources.Deps{}, em.emit)
				c := client(b)
				url := r.url("0", "/e")
				payload := []byte(`{"data":"` + strings.Repeat("x", size-11) + `"}`)
				b.SetBytes(int64(len(payload)))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					resp, err := c.Post(url, "application/json", bytes.NewReader(payload))
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Fatalf("status %d", resp.StatusCode)
					}
				}
			})
		}
	}
}

func checkFor(t *testing.T, total time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", total, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	return strconv.Itoa(freeport.Port(t))
}

// selfSigned returns a PEM certificate and key for localhost and a pool trusting it.
func selfSigned(t *testing.T) (certPEM, keyPEM string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})), pool
}

// TestIdempotencyKey: an Idempotency-Key header is the event's id, so that
// the broker stores a resent request once; without it the id is minted, and
// a key the broker cannot take as an id is refused naming the header.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	es := eventSource(map[string]v1alpha1.WebhookEventSource{"example": entry("/example", "POST", "0")})
	rec := &recorder{}
	r := start(t, es, sources.Deps{}, rec.emit)
	c := client(t)
	tests := []struct {
		name   string
		key    string
		status int
		reply  string
		wantID string // "" with status 200: a minted id
	}{
		{name: "a key is the id", key: "orders/notify/dep:0123", status: 200, reply: "success", wantID: "orders/notify/dep:0123"},
		{name: "no key", status: 200, reply: "success"},
		{name: "at the length limit", key: strings.Repeat("k", webhook.MaxIdempotencyKey), status: 200, reply: "success",
			wantID: strings.Repeat("k", webhook.MaxIdempotencyKey)},
		{name: "too long", key: strings.Repeat("k", webhook.MaxIdempotencyKey+1), status: 400,
			reply: "Idempotency-Key of 256 bytes, limit 255"},
		{name: "a space", key: "a b", status: 400, reply: "Idempotency-Key holds a space or a control character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: each case owns the recorder while it runs.
			header := http.Header{}
			if tc.key != "" {
				header.Set("Idempotency-Key", tc.key)
			}
			got := do(t, c, "POST", r.url("0", "/example"), header, strings.NewReader(`{"a":1}`))
			if got.status != tc.status || got.body != tc.reply {
				t.Fatalf("got %d %q, want %d %q", got.status, got.body, tc.status, tc.reply)
			}
			evs := rec.take()
			switch {
			case tc.status != 200 && len(evs) != 0:
				t.Errorf("stored %d events, want none", len(evs))
			case tc.status == 200 && len(evs) != 1:
				t.Fatalf("stored %d events, want 1", len(evs))
			case tc.status == 200 && tc.wantID != "" && evs[0].ID() != tc.wantID:
				t.Errorf("event id %q, want %q", evs[0].ID(), tc.wantID)
			case tc.status == 200 && tc.wantID == "" && !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(evs[0].ID()):
				t.Errorf("event id %q, want 32 minted hex characters", evs[0].ID())
			}
		})
	}
}
