package github_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/freeport"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/github"
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/sourcetest"
)

const hookSecret = "It's a Secret to Everybody"

// minted is an event id minted for an event without one of its own.
var minted = regexp.MustCompile(`^[0-9a-f]{32}$`)

// secrets resolves the webhook secret and the API token of the test YAML.
func secrets() secret.Resolver {
	env := map[string]string{
		secret.EnvName("github-access", "secret"): hookSecret,
		secret.EnvName("github-access", "token"):  "ghp_test",
	}
	return secret.Local{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
}

func sign(algo string, body string) string {
	newHash := map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New}[algo]
	mac := hmac.New(newHash, []byte(hookSecret))
	mac.Write([]byte(body))
	return algo + "=" + hex.EncodeToString(mac.Sum(nil))
}

type response struct {
	status int
	body   string
}

func post(t *testing.T, url string, header http.Header, body string) response {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: string(b)}
}

// delivery is the header of a GitHub delivery of event kind for body.
func delivery(kind, contentType, signature string) http.Header {
	h := http.Header{
		"Content-Type":      {contentType},
		"X-Github-Event":    {kind},
		"X-Github-Delivery": {"72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		"User-Agent":        {"GitHub-Hookshot/044aadd"},
	}
	if signature != "" {
		h.Set("X-Hub-Signature-256", signature)
	}
	return h
}

func TestConformance(t *testing.T) {
	t.Parallel()
	typ, ok := sources.Lookup(github.Type)
	factory := typ.Factory
	if !ok {
		t.Fatal("github is not registered")
	}
	const payload = `{"ref":"refs/heads/main","repository":{"id":1296269}}`
	sourcetest.Run(t, sourcetest.Case{
		Factory: factory,
		Deps:    sources.Deps{Secrets: secrets()},
		Valid:   "testdata/valid.yaml",
		Invalid: map[string]string{
			"testdata/invalid-app.yaml":        "spec.github[push].githubApp",
			"testdata/invalid-no-webhook.yaml": "spec.github[push].webhook",
			"testdata/invalid-route.yaml":      "spec.github[push].webhook.endpoint",
		},
		Trigger: func(t *testing.T, r *sourcetest.Running) {
			got := post(t, r.URL("0", "/push"), delivery("push", "application/json", sign("sha256", payload)), payload)
			if got.status != 200 || got.body != "success" {
				t.Fatalf("got %d %q, want 200 success", got.status, got.body)
			}
		},
		Check: func(t *testing.T, ev sources.Event) {
			if ev.Name != "push" {
				t.Errorf("name = %q, want push", ev.Name)
			}
			var d struct {
				Headers  map[string][]string `json:"headers"`
				Body     map[string]any      `json:"body"`
				Metadata map[string]string   `json:"metadata"`
			}
			if err := json.Unmarshal(ev.Data, &d); err != nil {
				t.Fatal(err)
			}
			if d.Body["ref"] != "refs/heads/main" || d.Body["X-GitHub-Event"] != "push" || d.Metadata["team"] != "infra" {
				t.Errorf("data = %s", ev.Data)
			}
		},
		Reject: func(t *testing.T, r *sourcetest.Running) {
			got := post(t, r.URL("0", "/push"), delivery("push", "application/json", sign("sha256", payload+" ")), payload)
			if got.status != http.StatusBadRequest {
				t.Fatalf("a bad signature got %d %q, want 400", got.status, got.body)
			}
		},
	})
}

func eventSource(g v1alpha1.GithubEventSource) *v1alpha1.EventSource {
	return &v1alpha1.EventSource{
		ObjectMeta: metav1.ObjectMeta{Name: "github", Namespace: "default"},
		Spec:       v1alpha1.EventSourceSpec{Github: map[string]v1alpha1.GithubEventSource{"push": g}},
	}
}

func ref(name, key string) *corev1.SecretKeySelector {
	return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
}

func TestDeliveries(t *testing.T) {
	t.Parallel()
	signed := eventSource(v1alpha1.GithubEventSource{
		Webhook:       &v1alpha1.WebhookContext{Endpoint: "/push", Port: "0"},
		Organizations: []string{"flintevents"},
		Events:        []string{"push"},
		WebhookSecret: ref("github-access", "secret"),
	})
	rec := &sourcetest.Recorder{}
	typ, _ := sources.Lookup(github.Type)
	factory := typ.Factory
	r := sourcetest.Start(t, factory, signed, sources.Deps{Secrets: secrets()}, rec.Emit)

	const payload = `{"action":"opened","number":1347,"big":12345678901234567890}`
	// deep is an object nested n levels: {"a":{"a":…1…}}.
	deep := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	form := "payload=" + url.QueryEscape(payload)
	const pushed = `{"X-GitHub-Delivery":"72d3162e-cc78-11e3-81ab-4c9367dc0958","X-GitHub-Event":"push","action":"opened","big":12345678901234567890,"number":1347}`
	// legacy adds the legacy X-Hub-Signature to h, and an empty
	// X-Hub-Signature-256 when empty256.
	legacy := func(h http.Header, sig string, empty256 bool) http.Header {
		h.Set("X-Hub-Signature", sig)
		if empty256 {
			h["X-Hub-Signature-256"] = []string{""}
		}
		return h
	}
	tests := []struct {
		name     string
		header   http.Header
		body     string
		status   int
		reply    string
		wantBody string // the event body; "" when nothing must be emitted
		noID     bool   // the delivery has no id: one is minted
	}{
		{name: "signed JSON", header: delivery("push", "application/json", sign("sha256", payload)), body: payload, status: 200, reply: "success",
			wantBody: `{"X-GitHub-Delivery":"72d3162e-cc78-11e3-81ab-4c9367dc0958","X-GitHub-Event":"push","action":"opened","big":12345678901234567890,"number":1347}`},
		{name: "signed form", header: delivery("push", "application/x-www-form-urlencoded", sign("sha256", form)), body: form, status: 200, reply: "success",
			wantBody: `{"X-GitHub-Delivery":"72d3162e-cc78-11e3-81ab-4c9367dc0958","X-GitHub-Event":"push","action":"opened","big":12345678901234567890,"number":1347}`},
		{name: "legacy sha1 signature", header: func() http.Header {
			h := delivery("push", "application/json", "")
			h.Set("X-Hub-Signature", sign("sha1", payload))
			return h
		}(), body: payload, status: 200, reply: "success",
			wantBody: `{"X-GitHub-Delivery":"72d3162e-cc78-11e3-81ab-4c9367dc0958","X-GitHub-Event":"push","action":"opened","big":12345678901234567890,"number":1347}`},
		{name: "missing signature", header: delivery("push", "application/json", ""), body: payload, status: 400, reply: "missing signature"},
		{name: "signature of another body", header: delivery("push", "application/json", sign("sha256", `{}`)), body: payload, status: 400, reply: "signature mismatch"},
		{name: "signature not hex", header: delivery("push", "application/json", "sha256=zz"), body: payload, status: 400, reply: "malformed signature"},
		{name: "unknown algorithm", header: delivery("push", "application/json", "md5=00"), body: payload, status: 400, reply: `unsupported signature algorithm "md5" in X-Hub-Signature-256`},
		{name: "sha1 in X-Hub-Signature-256", header: delivery("push", "application/json", sign("sha1", payload)), body: payload, status: 400,
			reply: `unsupported signature algorithm "sha1" in X-Hub-Signature-256`},
		{name: "sha512 in X-Hub-Signature-256", header: delivery("push", "application/json", sign("sha512", payload)), body: payload, status: 400,
			reply: `unsupported signature algorithm "sha512" in X-Hub-Signature-256`},
		{name: "empty X-Hub-Signature-256 beside a valid legacy signature", header: legacy(delivery("push", "application/json", ""), sign("sha1", payload), true),
			body: payload, status: 400, reply: "malformed signature"},
		{name: "bad X-Hub-Signature-256 beside a valid legacy signature", header: legacy(delivery("push", "application/json", sign("sha256", `{}`)), sign("sha1", payload), false),
			body: payload, status: 400, reply: "signature mismatch"},
		{name: "valid X-Hub-Signature-256 beside a bad legacy signature", header: legacy(delivery("push", "application/json", sign("sha256", payload)), "sha1=00", false),
			body: payload, status: 200, reply: "success", wantBody: pushed},
		{name: "legacy sha256 signature", header: legacy(delivery("push", "application/json", ""), sign("sha256", payload), false), body: payload, status: 200, reply: "success", wantBody: pushed},
		{name: "legacy sha512 signature", header: legacy(delivery("push", "application/json", ""), sign("sha512", payload), false), body: payload, status: 200, reply: "success", wantBody: pushed},
		{name: "legacy unknown algorithm", header: legacy(delivery("push", "application/json", ""), "md5=00", false), body: payload, status: 400,
			reply: `unsupported signature algorithm "md5" in X-Hub-Signature`},
		{name: "unsupported content type", header: delivery("push", "text/plain", sign("sha256", payload)), body: payload, status: 400, reply: `unsupported content type "text/plain"`},
		{name: "payload not an object", header: delivery("push", "application/json", sign("sha256", `[1]`)), body: `[1]`, status: 400, reply: "payload is not a JSON object"},
		// The event data holds the payload one level deeper: a sensor takes
		// data nested at most 1,000 levels.
		{name: "payload nested 1000 deep", header: delivery("push", "application/json", sign("sha256", deep(1000))), body: deep(1000), status: 400,
			reply: "invalid payload: JSON nesting too deep: more than 999 levels of nesting (at byte 4995); " +
				"the event data holds the payload one level deeper, and sensors take data nested at most 1000 levels"},
		{name: "payload nested 999 deep", header: delivery("push", "application/json", sign("sha256", deep(999))), body: deep(999), status: 200, reply: "success",
			wantBody: `{"X-GitHub-Delivery":"72d3162e-cc78-11e3-81ab-4c9367dc0958","X-GitHub-Event":"push","a":` + deep(998) + "}"},
		{name: "no delivery id", header: func() http.Header {
			h := delivery("push", "application/json", sign("sha256", payload))
			h.Del("X-GitHub-Delivery")
			return h
		}(), body: payload, status: 200, reply: "success", noID: true,
			wantBody: `{"X-GitHub-Delivery":"","X-GitHub-Event":"push","action":"opened","big":12345678901234567890,"number":1347}`},
		{name: "delivery id not an id", header: func() http.Header {
			h := delivery("push", "application/json", sign("sha256", payload))
			h.Set("X-GitHub-Delivery", "72d3162e cc78")
			return h
		}(), body: payload, status: 400, reply: "invalid X-GitHub-Delivery: want letters, digits and '-'"},
		{name: "delivery id too long", header: func() http.Header {
			h := delivery("push", "application/json", sign("sha256", payload))
			h.Set("X-GitHub-Delivery", strings.Repeat("a", 129))
			return h
		}(), body: payload, status: 400, reply: "invalid X-GitHub-Delivery: longer than 128 characters"},
		{name: "event not listed", header: delivery("issues", "application/json", sign("sha256", payload)), body: payload, status: 200, reply: "success"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: each case owns the recorder while it runs.
			got := post(t, r.URL("0", "/push"), tc.header, tc.body)
			if got.status != tc.status || got.body != tc.reply {
				t.Fatalf("got %d %q, want %d %q", got.status, got.body, tc.status, tc.reply)
			}
			evs := rec.Take()
			if tc.wantBody == "" {
				if len(evs) != 0 {
					t.Fatalf("emitted %d events, want none", len(evs))
				}
				return
			}
			if len(evs) != 1 {
				t.Fatalf("emitted %d events, want 1", len(evs))
			}
			// The delivery id is the event id, so the broker stores a
			// redelivery only once.
			if id := evs[0].ID; tc.noID && !minted.MatchString(id) {
				t.Errorf("event id = %q, want a minted one", id)
			} else if !tc.noID && id != "72d3162e-cc78-11e3-81ab-4c9367dc0958" {
				t.Errorf("event id = %q, want the delivery id", id)
			}
			var d map[string]json.RawMessage
			if err := json.Unmarshal(evs[0].Data, &d); err != nil {
				t.Fatal(err)
			}
			if string(d["body"]) != tc.wantBody {
				t.Errorf("body = %s\nwant   %s", d["body"], tc.wantBody)
			}
			if _, has := d["metadata"]; has {
				t.Errorf("metadata present without metadata in the spec: %s", evs[0].Data)
			}
			var headers map[string][]string
			if err := json.Unmarshal(d["headers"], &headers); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(headers["X-Github-Event"]) != "[push]" || fmt.Sprint(headers["User-Agent"]) != "[GitHub-Hookshot/044aadd]" {
				t.Errorf("headers = %v", headers)
			}
		})
	}
}

func TestEventsFilterAndNoSecret(t *testing.T) {
	t.Parallel()
	typ, _ := sources.Lookup(github.Type)
	factory := typ.Factory
	for _, tc := range []struct {
		name   string
		events []string
		kind   string
		emits  bool
	}{
		{name: "star takes every event", events: []string{"*"}, kind: "issues", emits: true},
		{name: "no list takes every event", kind: "issues", emits: true},
		{name: "listed event", events: []string{"push", "issues"}, kind: "issues", emits: true},
		{name: "unlisted event", events: []string{"push"}, kind: "ping", emits: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &sourcetest.Recorder{}
			es := eventSource(v1alpha1.GithubEventSource{
				Webhook:       &v1alpha1.WebhookContext{Endpoint: "/hook", Port: "0"},
				Organizations: []string{"flintevents"},
				Events:        tc.events,
			})
			reg := metrics.New()
			r := sourcetest.Start(t, factory, es, sources.Deps{Metrics: reg.Source}, rec.Emit)
			got := post(t, r.URL("0", "/hook"), delivery(tc.kind, "application/json", ""), `{"zen":"Keep it logically awesome."}`)
			if got.status != 200 {
				t.Fatalf("got %d %q, want 200", got.status, got.body)
			}
			if n := len(rec.Take()); (n == 1) != tc.emits || n > 1 {
				t.Errorf("emitted %d events, want emits=%v", n, tc.emits)
			}
			if n, want := sourcetest.Filtered(t, reg), map[bool]float64{true: 0, false: 1}[tc.emits]; n != want {
				t.Errorf("flint_eventsource_events_filtered_total = %v, want %v", n, want)
			}
		})
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

// TestEmptySecretRefusesToStart: a webhookSecret that resolves to nothing
// would turn the signature check off, so the source refuses to run, naming
// the field, in any process (as flint dev runs it, and as its image's main).
func TestEmptySecretRefusesToStart(t *testing.T) {
	t.Parallel()
	const wantErr = "eventsource github: spec.github[push].webhookSecret: the secret is empty (secret github-access key secret)"
	optional := true
	emptyFile := t.TempDir()
	if err := os.MkdirAll(filepath.Join(emptyFile, "github-access"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(emptyFile, "github-access", "secret"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		secrets secret.Resolver
		ref     *corev1.SecretKeySelector
	}{
		{name: "empty environment variable", ref: ref("github-access", "secret"),
			secrets: secret.Local{Getenv: func(k string) (string, bool) { return "", k == secret.EnvName("github-access", "secret") }}},
		{name: "empty file", ref: ref("github-access", "secret"), secrets: secret.Local{Dir: emptyFile, Getenv: noEnv}},
		{name: "optional secret absent", ref: func() *corev1.SecretKeySelector {
			r := ref("github-access", "secret")
			r.Optional = &optional
			return r
		}(), secrets: secret.Local{Dir: t.TempDir(), Getenv: noEnv}},
	}
	typ, _ := sources.Lookup(github.Type)
	factory := typ.Factory
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			es := eventSource(v1alpha1.GithubEventSource{
				Webhook:       &v1alpha1.WebhookContext{Endpoint: "/push", Port: "0"},
				Organizations: []string{"flintevents"},
				WebhookSecret: tc.ref,
			})
			deps := sources.Deps{Secrets: tc.secrets}
			deps.Receiver = sourcetest.NewReceiver(deps, 0)
			src, err := factory(es, deps)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			rec := &sourcetest.Recorder{}
			if err := src.Run(ctx, rec.Emit); err == nil || err.Error() != wantErr {
				t.Fatalf("Run = %v, want %q", err, wantErr)
			}
		})
	}

	t.Run("image main", func(t *testing.T) {
		t.Parallel()
		env := map[string]string{
			host.EnvEventSourceObject: fmt.Sprintf(esYAML, freeport.Port(t)),
			host.EnvSecretsDir:        emptyFile,
			host.EnvMetricsPort:       "off",
			"K_SINK":                  "http://127.0.0.1:1/",
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := host.Main(ctx, github.Type, nil, func(k string) string { return env[k] })
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("Main = %v, want an error containing %q", err, wantErr)
		}
	})
}

// esYAML is a github EventSource whose entry, served on port %d, checks the
// webhookSecret github-access/secret.
const esYAML = `apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: github}
spec:
  github:
    push:
      organizations: [flintevents]
      webhook: {endpoint: /push, port: "%d"}
      webhookSecret: {name: github-access, key: secret}
`

func noEnv(string) (string, bool) { return "", false }
