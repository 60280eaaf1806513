package http_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/triggers"
	httptrigger "github.com/flintevents/flint/triggers/http"
)

// received is what the target saw of one request.
type received struct {
	Method string
	Path   string
	Host   string
	Header http.Header
	Body   []byte
}

// target is an httptest server that records every request and answers with
// a fixed status and body.
type target struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

func newTarget(t *testing.T, tlsServer bool, status int, answer string) *target {
	t.Helper()
	tg := &target{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tg.mu.Lock()
		tg.reqs = append(tg.reqs, received{r.Method, r.URL.Path, r.Host, r.Header.Clone(), body})
		tg.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	})
	if tlsServer {
		tg.Server = httptest.NewTLSServer(h)
	} else {
		tg.Server = httptest.NewServer(h)
	}
	t.Cleanup(tg.Close)
	return tg
}

func (tg *target) only(t *testing.T) received {
	t.Helper()
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if len(tg.reqs) != 1 {
		t.Fatalf("target got %d requests, want 1", len(tg.reqs))
	}
	return tg.reqs[0]
}

func secretRef(name, key string) *corev1.SecretKeySelector {
	return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
}

// secrets resolves from an in-memory environment.
func secrets(kv map[[2]string]string) secret.Resolver {
	env := map[string]string{}
	for k, v := range kv {
		env[secret.EnvName(k[0], k[1])] = v
	}
	return secret.Local{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
}

var testSecrets = secrets(map[[2]string]string{
	{"api", "token"}: "Bearer s3cr3t",
	{"auth", "user"}: "alice",
	{"auth", "pass"}: "wonderland",
})

func events() map[string]*event.Event {
	return map[string]*event.Event{
		"dep": {
			Context: event.Context{
				ID: "e1", Source: "webhook", Subject: "example", Type: "webhook",
				SpecVersion: "1.0", DataContentType: "application/json",
				Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			},
			Data: []byte(`{"header":{"X-Req":["r-42"]},"body":{"name":"flint","count":3,"path":"orders"}}`),
		},
	}
}

func fire(t *testing.T, ctx context.Context, spec *v1alpha1.HTTPTrigger, deps triggers.Deps, payload []byte) (triggers.Result, error) {
	t.Helper()
	tr, err := httptrigger.New(spec, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = tr.(io.Closer).Close() })
	return tr.Fire(ctx, spec, triggers.Firing{Sensor: "s", Trigger: "call", Payload: payload, Events: events(), IdempotencyKey: "s/call/e1"})
}

func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("body = %s, want %s", got, want)
	}
}

func TestFire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		spec    func(url string) *v1alpha1.HTTPTrigger
		payload []byte
		check   func(t *testing.T, r received)
	}{
		{
			name:    "the payload is the body",
			status:  http.StatusOK,
			payload: []byte(`{"name":"flint","count":3,"countText":"3","meta":{"id":"e1"}}`),
			spec: func(url string) *v1alpha1.HTTPTrigger {
				return &v1alpha1.HTTPTrigger{URL: url + "/hook"}
			},
			check: func(t *testing.T, r received) {
				if r.Method != http.MethodPost || r.Path != "/hook" {
					t.Errorf("request = %s %s, want POST /hook", r.Method, r.Path)
				}
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
				if k := r.Header.Get("Idempotency-Key"); k != "s/call/e1" {
					t.Errorf("Idempotency-Key = %q", k)
				}
				jsonEqual(t, r.Body, `{"name":"flint","count":3,"countText":"3","meta":{"id":"e1"}}`)
			},
		},
		{
			name:   "method, headers and secure headers",
			status: http.StatusCreated,
			spec: func(url string) *v1alpha1.HTTPTrigger {
				return &v1alpha1.HTTPTrigger{
					URL: url + "/put", Method: http.MethodPut,
					Headers: map[string]string{"X-Static": "yes", "Content-Type": "application/vnd.flint+json"},
					SecureHeaders: []*v1alpha1.SecureHeader{{
						Name: "Authorization", ValueFrom: &v1alpha1.ValueFromSource{SecretKeyRef: secretRef("api", "token")},
					}},
					Host: "virtual.example",
				}
			},
			check: func(t *testing.T, r received) {
				if r.Method != http.MethodPut || r.Path != "/put" {
					t.Errorf("request = %s %s, want PUT /put", r.Method, r.Path)
				}
				want := map[string]string{
					"X-Static":      "yes",
					"Content-Type":  "application/vnd.flint+json",
					"Authorization": "Bearer s3cr3t",
				}
				for k, v := range want {
					if got := r.Header.Get(k); got != v {
						t.Errorf("header %s = %q, want %q", k, got, v)
					}
				}
				if r.Host != "virtual.example" {
					t.Errorf("Host = %q", r.Host)
				}
				if len(r.Body) != 0 {
					t.Errorf("body = %q, want empty without payload", r.Body)
				}
			},
		},
		{
			name:   "basic auth",
			status: http.StatusOK,
			spec: func(url string) *v1alpha1.HTTPTrigger {
				return &v1alpha1.HTTPTrigger{URL: url, Method: http.MethodGet, BasicAuth: &v1alpha1.BasicAuth{
					Username: secretRef("auth", "user"), Password: secretRef("auth", "pass"),
				}}
			},
			check: func(t *testing.T, r received) {
				req := &http.Request{Header: r.Header}
				user, pass, ok := req.BasicAuth()
				if !ok || user != "alice" || pass != "wonderland" {
					t.Errorf("basic auth = %q %q %v", user, pass, ok)
				}
				if r.Method != http.MethodGet {
					t.Errorf("method = %s", r.Method)
				}
			},
		},
		{
			name:   "server error is a result, not an error",
			status: http.StatusInternalServerError,
			spec: func(url string) *v1alpha1.HTTPTrigger {
				return &v1alpha1.HTTPTrigger{URL: url + "/fail"}
			},
			check: func(t *testing.T, r received) {
				if r.Path != "/fail" {
					t.Errorf("path = %s", r.Path)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := newTarget(t, false, tc.status, "answer:"+tc.name)
			res, err := fire(t, context.Background(), tc.spec(tg.URL), triggers.Deps{Secrets: testSecrets}, tc.payload)
			if err != nil {
				t.Fatalf("Fire: %v", err)
			}
			if res.StatusCode != tc.status || string(res.Body) != "answer:"+tc.name {
				t.Fatalf("result = %d %q, want %d %q", res.StatusCode, res.Body, tc.status, "answer:"+tc.name)
			}
			tc.check(t, tg.only(t))
		})
	}
}

func TestFireBoundsResponseBody(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", httptrigger.MaxResponseBody+1000)
	tg := newTarget(t, false, http.StatusOK, big)
	res, err := fire(t, context.Background(), &v1alpha1.HTTPTrigger{URL: tg.URL}, triggers.Deps{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Body) != httptrigger.MaxResponseBody {
		t.Fatalf("body length = %d, want %d", len(res.Body), httptrigger.MaxResponseBody)
	}
}

// blockingTarget answers only when the request's context ends.
func blockingTarget(t *testing.T) *httptest.Server {
	t.Helper()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: handlers return, then the server closes
	return srv
}

func TestFireTimeoutAndCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		timeout int64
		cancel  time.Duration // cancel the caller's context after this; 0 = never
		wantErr error
		max     time.Duration
	}{
		{"template timeout", 1, 0, context.DeadlineExceeded, 3 * time.Second},
		{"caller cancels", 30, 100 * time.Millisecond, context.Canceled, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := blockingTarget(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel > 0 {
				time.AfterFunc(tc.cancel, cancel)
			}
			start := time.Now()
			_, err := fire(t, ctx, &v1alpha1.HTTPTrigger{URL: srv.URL, Timeout: tc.timeout}, triggers.Deps{}, nil)
			took := time.Since(start)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if took > tc.max {
				t.Fatalf("Fire took %s, want under %s", took, tc.max)
			}
		})
	}
}

func TestFireTLS(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, true, http.StatusOK, "secure")
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tg.Certificate().Raw}))
	deps := triggers.Deps{Secrets: secrets(map[[2]string]string{{"tls", "ca"}: caPEM})}
	tests := []struct {
		name    string
		tls     *v1alpha1.TLSConfig
		wantErr bool
	}{
		{"unknown authority fails", nil, true},
		{"insecureSkipVerify", &v1alpha1.TLSConfig{InsecureSkipVerify: true}, false},
		{"caCertSecret", &v1alpha1.TLSConfig{CACertSecret: secretRef("tls", "ca")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := fire(t, context.Background(), &v1alpha1.HTTPTrigger{URL: tg.URL, TLS: tc.tls}, deps, nil)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && (res.StatusCode != http.StatusOK || string(res.Body) != "secure") {
				t.Fatalf("result = %d %q", res.StatusCode, res.Body)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec *v1alpha1.HTTPTrigger
		want string // the problem, relative to the spec
	}{
		{
			"configMapKeyRef",
			&v1alpha1.HTTPTrigger{URL: "http://x", SecureHeaders: []*v1alpha1.SecureHeader{{
				Name: "A", ValueFrom: &v1alpha1.ValueFromSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Key: "k"}},
			}}},
			"not supported, use secretKeyRef: secureHeaders[0].valueFrom.configMapKeyRef",
		},
		{
			"no valueFrom",
			&v1alpha1.HTTPTrigger{URL: "http://x", SecureHeaders: []*v1alpha1.SecureHeader{{Name: "A"}}},
			"missing field(s): secureHeaders[0].valueFrom",
		},
		{
			"missing CA secret",
			&v1alpha1.HTTPTrigger{URL: "http://x", TLS: &v1alpha1.TLSConfig{CACertSecret: secretRef("nope", "ca")}},
			"tls.caCertSecret",
		},
		{
			"CA secret without a certificate",
			&v1alpha1.HTTPTrigger{URL: "http://x", TLS: &v1alpha1.TLSConfig{CACertSecret: secretRef("api", "token")}},
			"no PEM certificate found: tls.caCertSecret",
		},
		{
			"cert without key",
			&v1alpha1.HTTPTrigger{URL: "http://x", TLS: &v1alpha1.TLSConfig{ClientCertSecret: secretRef("api", "token")}},
			"missing field(s): tls.clientKeySecret",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := httptrigger.New(tc.spec, triggers.Deps{Secrets: testSecrets})
			var fe *apis.FieldError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a FieldError containing %q", err, tc.want)
			}
		})
	}
}

func TestFireErrors(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, false, http.StatusOK, "")
	tests := []struct {
		name   string
		spec   *v1alpha1.HTTPTrigger
		deps   triggers.Deps
		wantIn string
	}{
		{
			"missing secret",
			&v1alpha1.HTTPTrigger{URL: tg.URL, SecureHeaders: []*v1alpha1.SecureHeader{{
				Name: "A", ValueFrom: &v1alpha1.ValueFromSource{SecretKeyRef: secretRef("api", "missing")},
			}}},
			triggers.Deps{Secrets: testSecrets},
			"http.secureHeaders[0].valueFrom.secretKeyRef",
		},
		{
			"no resolver",
			&v1alpha1.HTTPTrigger{URL: tg.URL, BasicAuth: &v1alpha1.BasicAuth{Username: secretRef("auth", "user")}},
			triggers.Deps{},
			"http.basicAuth.username",
		},
		{"empty url", &v1alpha1.HTTPTrigger{}, triggers.Deps{}, "http.url"},
		{"bad url", &v1alpha1.HTTPTrigger{URL: "http://[::1"}, triggers.Deps{}, "http.url"},
		{"connection refused", &v1alpha1.HTTPTrigger{URL: "http://127.0.0.1:1/"}, triggers.Deps{}, "http: sending POST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := fire(t, context.Background(), tc.spec, tc.deps, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantIn)
			}
		})
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if len(tg.reqs) != 0 {
		t.Fatalf("target got %d requests from failing firings", len(tg.reqs))
	}
}

func BenchmarkFire(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	b.Cleanup(srv.Close)
	spec := &v1alpha1.HTTPTrigger{URL: srv.URL + "/hook"}
	tr, err := httptrigger.New(spec, triggers.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.(io.Closer).Close() })
	in := triggers.Firing{Sensor: "s", Trigger: "call", Payload: []byte(`{"name":"flint","count":3}`), Events: events(), IdempotencyKey: "k"}
	run := func(b *testing.B, fn func(func() bool)) {
		b.ReportAllocs()
		fn(func() bool {
			res, err := tr.Fire(context.Background(), spec, in)
			if err != nil || res.StatusCode != http.StatusOK {
				b.Errorf("Fire: %d %v", res.StatusCode, err)
				return false
			}
			return true
		})
	}
	b.Run("serial", func(b *testing.B) {
		run(b, func(once func() bool) {
			for b.Loop() {
				if !once() {
					return
				}
			}
		})
	})
	b.Run("parallel", func(b *testing.B) {
		run(b, func(once func() bool) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if !once() {
						return
					}
				}
			})
		})
	})
}
