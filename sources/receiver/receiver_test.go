package receiver_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources/receiver"
)

func ref(name, key string) *corev1.SecretKeySelector {
	return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
}

// run starts r until the test ends and waits for its ports.
func run(t *testing.T, r *receiver.Receiver) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	select {
	case <-r.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatal("receiver not ready after 5s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return 10s after cancel")
		}
	})
}

func get(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func named(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		receiver.Reply(w, http.StatusOK, name+" "+req.Header.Get("Authorization"))
	})
}

func TestSharedPortAcrossEventSources(t *testing.T) {
	t.Parallel()
	r := receiver.New(receiver.Options{Host: "127.0.0.1", Logger: zaptest.NewLogger(t),
		Secrets: secret.Local{Getenv: func(k string) (string, bool) { return "tok", k == secret.EnvName("s", "t") }}})
	routes := map[string]receiver.RouteSpec{
		"a":    {EventSource: "es-a", Field: "spec.webhook[a]", Port: "0", Endpoint: "/a", Method: "post"},
		"b":    {EventSource: "es-b", Field: "spec.github[b].webhook", Port: "00", Endpoint: "b"},
		"c":    {EventSource: "es-b", Field: "spec.github[c].webhook", Port: "0", Endpoint: "/c", Auth: receiver.Auth{Token: ref("s", "t")}},
		"idle": {EventSource: "es-c", Field: "spec.webhook[idle]", Port: "0", Endpoint: "/idle"},
	}
	attached := map[string]*receiver.Route{}
	for name, spec := range routes {
		rt, fe := r.Route(spec)
		if fe != nil {
			t.Fatalf("Route(%s): %v", name, fe)
		}
		attached[name] = rt
	}
	for _, name := range []string{"a", "b", "c"} {
		if _, err := attached[name].Attach(named(name)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := attached["a"].Attach(named("again")); err == nil {
		t.Error("second Attach succeeded, want error")
	}
	// Ready waits for every route's handler; "idle" then goes inactive.
	detachIdle, err := attached["idle"].Attach(named("idle"))
	if err != nil {
		t.Fatal(err)
	}
	run(t, r)
	detachIdle()
	base := "http://" + r.Addr("0").String()
	if r.Addr("000").String() != r.Addr("0").String() {
		t.Errorf("Addr(000) = %v, want the address of port 0", r.Addr("000"))
	}
	if ports := r.Ports(); len(ports) != 1 || ports[0].Number != "0" || ports[0].URL() != base ||
		strings.Join(ports[0].Endpoints, " ") != "/a /b /c /idle" {
		t.Errorf("Ports() = %+v, want port 0 at %s with /a /b /c /idle", ports, base)
	}
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"POST", "/a", 200, "a "},
		{"GET", "/a", 405, "method not allowed"},
		{"PATCH", "/b", 200, "b "},
		{"POST", "/c", 401, "unauthorized"},
		{"POST", "/idle", 503, "endpoint is inactive"},
		{"GET", "/health", 200, "OK"},
		{"GET", "/nope", 404, "not found"},
	}
	for _, tc := range tests {
		if status, body := get(t, tc.method, base+tc.path); status != tc.status || body != tc.body {
			t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, status, body, tc.status, tc.body)
		}
	}
	req, _ := http.NewRequest("POST", base+"/c", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "c "+receiver.MaskedAuthorization {
		t.Errorf("authorized request = %d %q, want 200 with the Authorization header masked", resp.StatusCode, b)
	}
	if _, fe := r.Route(receiver.RouteSpec{Field: "spec.webhook[late]", Port: "0", Endpoint: "/late"}); fe == nil || !strings.Contains(fe.Error(), "already running") {
		t.Errorf("Route after Run = %v, want an already-running error", fe)
	}
}

func TestRouteRejects(t *testing.T) {
	t.Parallel()
	tls := func(name string) *receiver.TLS { return &receiver.TLS{Cert: ref(name, "crt"), Key: ref(name, "key")} }
	first := receiver.RouteSpec{EventSource: "one", Field: "spec.webhook[first]", Port: "12000", Endpoint: "/a"}
	firstTLS := receiver.RouteSpec{EventSource: "one", Field: "spec.webhook[first]", Port: "12000", Endpoint: "/a", TLS: tls("t")}
	tests := []struct {
		name    string
		before  *receiver.RouteSpec
		spec    receiver.RouteSpec
		noRes   bool
		wantErr string
	}{
		{name: "bad port", spec: receiver.RouteSpec{Port: "x", Endpoint: "/a"}, wantErr: `invalid value: x: spec.webhook[e].port`},
		{name: "port out of range", spec: receiver.RouteSpec{Port: "70000", Endpoint: "/a"}, wantErr: `spec.webhook[e].port`},
		{name: "missing endpoint", spec: receiver.RouteSpec{Port: "1"}, wantErr: "missing field(s): spec.webhook[e].endpoint"},
		{name: "negative body limit", spec: receiver.RouteSpec{Port: "1", Endpoint: "/a", MaxBodyBytes: -1}, wantErr: "spec.webhook[e].maxPayloadSize"},
		{name: "cert without key", spec: receiver.RouteSpec{Port: "1", Endpoint: "/a", TLS: &receiver.TLS{Cert: ref("t", "c")}}, wantErr: "serverCertSecret and serverKeySecret go together"},
		{name: "token and basic", spec: receiver.RouteSpec{Port: "1", Endpoint: "/a", Auth: receiver.Auth{Token: ref("a", "t"), Basic: &v1alpha1.BasicAuth{Username: ref("b", "u"), Password: ref("b", "p")}}}, wantErr: "mutually exclusive"},
		{name: "basic without password", spec: receiver.RouteSpec{Port: "1", Endpoint: "/a", Auth: receiver.Auth{Basic: &v1alpha1.BasicAuth{Username: ref("b", "u")}}}, wantErr: "username and password are both required: spec.webhook[e].basicAuth"},
		{name: "secret without resolver", noRes: true, spec: receiver.RouteSpec{Port: "1", Endpoint: "/a", Auth: receiver.Auth{Token: ref("a", "t")}}, wantErr: "no secret resolver"},
		{name: "endpoint taken by another EventSource", before: &first, spec: receiver.RouteSpec{Port: "012000", Endpoint: "a"},
			wantErr: "port 12000 endpoint /a is already served by spec.webhook[first] of EventSource one: spec.webhook[e].endpoint"},
		{name: "plain route on a TLS port", before: &firstTLS, spec: receiver.RouteSpec{Port: "12000", Endpoint: "/b"}, wantErr: "port 12000 serves TLS for spec.webhook[first] of EventSource one"},
		{name: "TLS route on a plain port", before: &first, spec: receiver.RouteSpec{Port: "12000", Endpoint: "/b", TLS: tls("t")}, wantErr: "port 12000 also serves plain HTTP routes"},
		{name: "other certificate", before: &firstTLS, spec: receiver.RouteSpec{Port: "12000", Endpoint: "/b", TLS: tls("u")}, wantErr: "already serves TLS with the secrets of spec.webhook[first]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := receiver.Options{Secrets: secret.Local{}}
			if tc.noRes {
				opts.Secrets = nil
			}
			r := receiver.New(opts)
			if tc.before != nil {
				if _, fe := r.Route(*tc.before); fe != nil {
					t.Fatal(fe)
				}
			}
			_, fe := r.Route(tc.spec)
			if fe == nil {
				t.Fatal("Route succeeded, want error")
			}
			if got := fe.ViaFieldKey("webhook", "e").ViaField("spec").Error(); !strings.Contains(got, tc.wantErr) {
				t.Errorf("error %q does not contain %q", got, tc.wantErr)
			}
		})
	}
}

func TestDetachWaitsForInflight(t *testing.T) {
	t.Parallel()
	r := receiver.New(receiver.Options{Host: "127.0.0.1"})
	rt, fe := r.Route(receiver.RouteSpec{Field: "spec.webhook[e]", Port: "0", Endpoint: "/e"})
	if fe != nil {
		t.Fatal(fe)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	detach, err := rt.Attach(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		receiver.Reply(w, http.StatusOK, "done")
	}))
	if err != nil {
		t.Fatal(err)
	}
	run(t, r)
	url := "http://" + r.Addr("0").String() + "/e"
	answered := make(chan int, 1)
	go func() {
		resp, err := http.Post(url, "text/plain", nil)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	<-entered
	detached := make(chan struct{})
	go func() { detach(); close(detached) }()
	select {
	case <-detached:
		t.Fatal("detach returned while a request was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if got := <-answered; got != 200 {
		t.Fatalf("in-flight request = %d, want 200", got)
	}
	<-detached
	if status, body := get(t, "POST", url); status != 503 {
		t.Errorf("after detach = %d %q, want 503", status, body)
	}
}

func TestRunFails(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, busyPort, _ := net.SplitHostPort(busy.Addr().String())
	tests := []struct {
		name    string
		spec    receiver.RouteSpec
		wantErr string
	}{
		{name: "port in use", spec: receiver.RouteSpec{EventSource: "es", Field: "spec.webhook[e]", Port: busyPort, Endpoint: "/e"},
			wantErr: "spec.webhook[e].port of EventSource es: port " + busyPort + " is in use (127.0.0.1:" + busyPort + ")"},
		{name: "missing secret", spec: receiver.RouteSpec{EventSource: "es", Field: "spec.webhook[s]", Port: "0", Endpoint: "/s", Auth: receiver.Auth{Token: ref("missing", "t")}},
			wantErr: "eventsource es: spec.webhook[s].authSecret: resolving secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := receiver.New(receiver.Options{Host: "127.0.0.1", Secrets: secret.Local{Getenv: func(string) (string, bool) { return "", false }}})
			if _, fe := r.Route(tc.spec); fe != nil {
				t.Fatal(fe)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := r.Run(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Run = %v, want error containing %q", err, tc.wantErr)
			}
			var pe *receiver.PortError
			if errors.As(err, &pe) != (tc.name == "port in use") || (pe != nil && (!pe.InUse() || pe.Field != tc.spec.Field || pe.EventSource != tc.spec.EventSource)) {
				t.Errorf("Run = %#v: a *receiver.PortError naming the route's owner only when the port is in use", err)
			}
			if err := r.Run(ctx); err == nil {
				t.Error("second Run succeeded")
			}
		})
	}
}

func TestHealthOnlyPort(t *testing.T) {
	t.Parallel()
	r := receiver.New(receiver.Options{Host: "127.0.0.1"})
	if fe := r.Health("0"); fe != nil {
		t.Fatal(fe)
	}
	if fe := r.Health("http"); fe == nil {
		t.Fatal("Health(\"http\") accepted a port that is not a number")
	}
	run(t, r)
	base := "http://" + r.Addr("0").String()
	if code, body := get(t, http.MethodGet, base+"/health"); code != http.StatusOK || body != "OK" {
		t.Fatalf("GET /health = %d %q, want 200 OK", code, body)
	}
	if code, _ := get(t, http.MethodPost, base+"/example"); code != http.StatusNotFound {
		t.Fatalf("POST /example on a health-only port = %d, want 404", code)
	}
}

// TestStopClosesConnectionsWithoutRequest checks that a connection that never
// sent a request does not hold the stop for http.Server's five seconds.
func TestStopClosesConnectionsWithoutRequest(t *testing.T) {
	t.Parallel()
	r := receiver.New(receiver.Options{Host: "127.0.0.1"})
	if fe := r.Health("0"); fe != nil {
		t.Fatal(fe)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-r.Ready()
	conn, err := net.Dial("tcp", r.Addr("0").String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(100 * time.Millisecond) // the server has accepted it
	began := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(began); d > 2*time.Second {
			t.Fatalf("Run returned %v after cancel, want well under http.Server's 5 s wait", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return 10 s after cancel")
	}
}

// TestMaxConns checks that a port serves at most MaxConns connections at
// once: while a request being served holds the only slot, another waits
// instead of taking another file descriptor; a connection that sends nothing
// gives its slot up to a new one after EvictAfter.
func TestMaxConns(t *testing.T) {
	t.Parallel()
	r := receiver.New(receiver.Options{Host: "127.0.0.1", MaxConns: 1})
	rt, fe := r.Route(receiver.RouteSpec{Field: "spec.webhook[busy]", Port: "0", Endpoint: "/busy"})
	if fe != nil {
		t.Fatal(fe)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	if _, err := rt.Attach(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.ReadAll(req.Body)
		close(entered)
		<-release
		receiver.Reply(w, http.StatusOK, "done")
	})); err != nil {
		t.Fatal(err)
	}
	run(t, r)
	addr := r.Addr("0").String()

	busy := make(chan int, 1)
	go func() {
		code, _ := get(t, http.MethodPost, "http://"+addr+"/busy")
		busy <- code
	}()
	<-entered
	quick := &http.Client{Timeout: 4 * receiver.EvictAfter}
	if resp, err := quick.Get("http://" + addr + "/health"); err == nil {
		resp.Body.Close()
		t.Fatal("a second connection was served while a request held the only slot")
	}
	close(release)
	if code := <-busy; code != http.StatusOK {
		t.Fatalf("the request holding the slot got %d, want 200", code)
	}

	hog, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer hog.Close()
	time.Sleep(2 * receiver.EvictAfter)
	if code, _ := get(t, http.MethodGet, "http://"+addr+"/health"); code != http.StatusOK {
		t.Fatalf("GET /health while a silent connection held the slot = %d, want 200", code)
	}
	_ = hog.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := hog.Read(make([]byte, 1)); err == nil {
		t.Errorf("the silent connection read %d bytes, want it closed", n)
	}
}

// TestReadyWaitsForHandlers checks that Ready means requests are served: it
// waits for every route's handler, not only for the ports.
func TestReadyWaitsForHandlers(t *testing.T) {
	t.Parallel()
	r := receiver.New(receiver.Options{Host: "127.0.0.1"})
	rt, fe := r.Route(receiver.RouteSpec{EventSource: "es", Field: "spec.webhook[a]", Port: "0", Endpoint: "/a"})
	if fe != nil {
		t.Fatal(fe)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-r.Ready():
		t.Fatal("Ready before the route had a handler: a request would get 503")
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := rt.Attach(named("a")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("not Ready 5s after the handler was attached")
	}
	if code, body := get(t, http.MethodPost, "http://"+r.Addr("0").String()+"/a"); code != http.StatusOK || body != "a " {
		t.Fatalf("POST /a = %d %q, want 200", code, body)
	}
}

// TestOnePortForAll serves routes that name different ports on the one port
// of Options.Port, as a source image behind Knative does; two routes of one
// endpoint then conflict.
func TestOnePortForAll(t *testing.T) {
	t.Parallel()
	r := receiver.New(receiver.Options{Host: "127.0.0.1", Port: "0"})
	for _, spec := range []receiver.RouteSpec{
		{Field: "spec.webhook[a]", Port: "12000", Endpoint: "/a", Method: "POST"},
		{Field: "spec.webhook[b]", Port: "13000", Endpoint: "/b", Method: "POST"},
		{Field: "spec.webhook[c]", Port: "9090", Endpoint: "/c", Method: "GET"},
	} {
		rt, fe := r.Route(spec)
		if fe != nil {
			t.Fatalf("Route(%s) = %v", spec.Field, fe)
		}
		if _, err := rt.Attach(named(spec.Field)); err != nil {
			t.Fatal(err)
		}
	}
	_, fe := r.Route(receiver.RouteSpec{Field: "spec.webhook[d]", Port: "14000", Endpoint: "/a", Method: "GET"})
	if fe == nil || !strings.Contains(fe.Error(), "endpoint /a is already served by spec.webhook[a]") {
		t.Errorf("a second route of /a on another port: %v, want a conflict", fe)
	}
	run(t, r)
	if ports := r.Ports(); len(ports) != 1 || ports[0].Number != "0" || strings.Join(ports[0].Endpoints, " ") != "/a /b /c" {
		t.Fatalf("ports %+v, want one serving /a /b /c", ports)
	}
	base := "http://" + r.Addr("0").String()
	for _, c := range []struct{ method, endpoint, want string }{
		{http.MethodPost, "/a", "spec.webhook[a]"},
		{http.MethodPost, "/b", "spec.webhook[b]"},
		{http.MethodGet, "/c", "spec.webhook[c]"},
	} {
		if code, body := get(t, c.method, base+c.endpoint); code != http.StatusOK || !strings.HasPrefix(body, c.want) {
			t.Errorf("%s %s = %d %q, want 200 from %s", c.method, c.endpoint, code, body, c.want)
		}
	}
}
