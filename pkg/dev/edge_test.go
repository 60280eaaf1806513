package dev_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/freeport"
)

const edgeSecret = "It's a Secret to Everybody"

// loadEdge reads the EventSource and Sensor of a testdata file, its $PORT and
// $TARGET replaced, into objs.
func loadEdge(t *testing.T, objs *dev.Objects, path string, port int, target string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("$PORT", strconv.Itoa(port), "$TARGET", target).Replace(string(raw))
	for _, doc := range strings.Split(text, "\n---\n") {
		var kind struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &kind); err != nil {
			t.Fatal(err)
		}
		switch kind.Kind {
		case "EventSource":
			var es v1alpha1.EventSource
			if err := yaml.UnmarshalStrict([]byte(doc), &es); err != nil {
				t.Fatal(err)
			}
			objs.EventSources = append(objs.EventSources, &es)
		case "Sensor":
			var s v1alpha1.Sensor
			if err := yaml.UnmarshalStrict([]byte(doc), &s); err != nil {
				t.Fatal(err)
			}
			objs.Sensors = append(objs.Sensors, &s)
		default:
			t.Fatalf("%s: unexpected kind %q", path, kind.Kind)
		}
	}
}

// secretsDir is a directory of secret files holding github-access/secret.
func secretsDir(t *testing.T, value string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "github-access"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "github-access", "secret"), []byte(value), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// githubDelivery is the header of a signed GitHub push delivery of body.
func githubDelivery(id string, body []byte) http.Header {
	mac := hmac.New(sha256.New, []byte(edgeSecret))
	mac.Write(body)
	return http.Header{
		"Content-Type":        {"application/json"},
		"X-Github-Event":      {"push"},
		"X-Github-Delivery":   {id},
		"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))},
	}
}

type edgeReply struct {
	status     int
	body       string
	retryAfter string
}

func postEdge(t *testing.T, url string, header http.Header, body []byte) edgeReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return edgeReply{status: resp.StatusCode, body: string(b), retryAfter: resp.Header.Get("Retry-After")}
}

// jsonOf is a JSON object of exactly n bytes: {"a":"xx…"}.
func jsonOf(n int) []byte {
	return []byte(`{"a":"` + strings.Repeat("x", n-8) + `"}`)
}

// TestHostileRequestsAtTheEdge: in both wirings, a request whose event
// outgrows the broker's limit once encoded is answered 413 naming the limit
// (not a 503 the caller would retry for ever), a body nested deeper than a
// sensor takes once inside the event data is refused with 400 while one level
// less fires, and a GitHub delivery sent three times fires once.
func TestHostileRequestsAtTheEdge(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.name, func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			tg := newTarget(t, true, 0)
			hookPort, ghPort := freeport.Port(t), freeport.Port(t)
			var objs dev.Objects
			loadEdge(t, &objs, "testdata/edge-webhook.yaml", hookPort, tg.URL)
			loadEdge(t, &objs, "testdata/edge-github.yaml", ghPort, tg.URL)
			start(t, objs, dev.Options{ViaHTTP: w.viaHTTP, SecretsDir: secretsDir(t, edgeSecret)})
			hook := fmt.Sprintf("http://127.0.0.1:%d/orders", hookPort)
			gh := fmt.Sprintf("http://127.0.0.1:%d/push", ghPort)
			header := func(contentType string) http.Header { return http.Header{"Content-Type": {contentType}} }
			nested := func(n int) []byte { return []byte(strings.Repeat("[", n) + strings.Repeat("]", n)) }
			big := jsonOf(1<<20 - 100)

			const limit = "limit 1048576"
			tests := []struct {
				name   string
				url    string
				header http.Header
				body   []byte
				status int
				reply  string // a part of the answer
				fires  bool
			}{
				{name: "200 KB of \\x01 escape to 1.2 MB", url: hook, header: header("application/octet-stream"),
					body: bytes.Repeat([]byte{1}, 200_000), status: http.StatusRequestEntityTooLarge, reply: limit},
				{name: "1 MiB - 100 of JSON plus the headers", url: hook, header: header("application/json"),
					body: big, status: http.StatusRequestEntityTooLarge, reply: limit},
				{name: "github: 1 MiB - 100 of JSON plus the headers", url: gh, header: githubDelivery("0b9f5d2e-0000-4000-8000-000000000001", big),
					body: big, status: http.StatusRequestEntityTooLarge, reply: limit},
				{name: "body nested 1000 deep", url: hook, header: header("application/json"), body: nested(1000),
					status: http.StatusBadRequest, reply: "sensors take data nested at most 1000 levels"},
				{name: "body nested 999 deep", url: hook, header: header("application/json"), body: nested(999),
					status: http.StatusOK, reply: "success", fires: true},
				{name: "a small body", url: hook, header: header("text/plain"), body: []byte("hello"),
					status: http.StatusOK, reply: "success", fires: true},
			}
			fired := 0
			for _, tc := range tests {
				got := postEdge(t, tc.url, tc.header, tc.body)
				if got.status != tc.status || !strings.Contains(got.body, tc.reply) {
					t.Errorf("%s: got %d %q, want %d with %q", tc.name, got.status, got.body, tc.status, tc.reply)
				}
				if tc.fires {
					fired++
				}
			}

			// The same delivery three times (as GitHub redelivers it), then another.
			push := []byte(`{"ref":"refs/heads/main"}`)
			for _, id := range []string{"72d3162e-cc78-11e3-81ab-4c9367dc0958", "72d3162e-cc78-11e3-81ab-4c9367dc0958",
				"72d3162e-cc78-11e3-81ab-4c9367dc0958", "72d3162e-cc78-11e3-81ab-4c9367dc0959"} {
				if got := postEdge(t, gh, githubDelivery(id, push), push); got.status != http.StatusOK {
					t.Fatalf("delivery %s: got %d %q, want 200", id, got.status, got.body)
				}
			}
			fired += 2
			waitFor(t, func() bool { return tg.count() >= fired })
			time.Sleep(300 * time.Millisecond) // a redelivery that fired would arrive by now
			tg.mu.Lock()
			got := strings.Join(tg.got, "\n")
			tg.mu.Unlock()
			if n := tg.count(); n != fired {
				t.Errorf("the trigger fired %d times, want %d:\n%s", n, fired, got)
			}
			if n := strings.Count(got, `"delivery":"72d3162e-cc78-11e3-81ab-4c9367dc0958"`); n != 1 {
				t.Errorf("the delivery sent three times fired %d times, want 1:\n%s", n, got)
			}
		})
	}
}

// TestFullStoreAnswers503WithRetryAfter: when the broker's store is full (a
// trigger target down, so nothing drains), the webhook answers 503 with
// Retry-After, as the broker's ingress does, in both wirings.
func TestFullStoreAnswers503WithRetryAfter(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.name, func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			tg := newTarget(t, false, 0)
			port := freeport.Port(t)
			var objs dev.Objects
			loadEdge(t, &objs, "testdata/edge-webhook.yaml", port, tg.URL)
			start(t, objs, dev.Options{ViaHTTP: w.viaHTTP, Broker: broker.Config{MaxBytes: 16 << 10}})
			url := fmt.Sprintf("http://127.0.0.1:%d/orders", port)
			body := jsonOf(2 << 10)
			for i := 0; ; i++ {
				got := postEdge(t, url, http.Header{"Content-Type": {"application/json"}}, body)
				if got.status == http.StatusOK {
					if i > 50 {
						t.Fatalf("%d events of 2 KiB stored in a store of 16 KiB", i)
					}
					continue
				}
				if got.status != http.StatusServiceUnavailable || got.retryAfter != "1" {
					t.Fatalf("full store: got %d %q, Retry-After %q; want 503 with Retry-After 1", got.status, got.body, got.retryAfter)
				}
				return
			}
		})
	}
}

// TestEmptyWebhookSecretRefusesToStart: a github webhookSecret whose file is
// empty would turn the signature check off; flint dev refuses to start,
// naming the field, in both wirings.
func TestEmptyWebhookSecretRefusesToStart(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.name, func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			var objs dev.Objects
			loadEdge(t, &objs, "testdata/edge-github.yaml", freeport.Port(t), "http://127.0.0.1:1/")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := dev.Run(ctx, objs, dev.Options{ViaHTTP: w.viaHTTP, BrokerAddr: "127.0.0.1:0", MetricsAddr: "off", SecretsDir: secretsDir(t, "")})
			const want = "spec.github[push].webhookSecret: the secret is empty"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("dev.Run = %v, want an error containing %q", err, want)
			}
		})
	}
}
