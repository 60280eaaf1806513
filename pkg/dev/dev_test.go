package dev_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/freeport"
	_ "github.com/flintevents/flint/sources/builtin"
	_ "github.com/flintevents/flint/triggers/builtin"
)

// wirings are the two ways flint dev connects its hops; every test runs on both.
var wirings = []struct {
	name    string
	viaHTTP bool
}{{"in-process", false}, {"via-http", true}}

// target is an HTTP trigger target counting the events it accepted.
type target struct {
	*httptest.Server
	healthy atomic.Bool
	delay   time.Duration
	arrived atomic.Int64 // requests that arrived, answered or not yet
	mu      sync.Mutex
	got     []string
}

func newTarget(t *testing.T, healthy bool, delay time.Duration) *target {
	t.Helper()
	tg := &target{delay: delay}
	tg.healthy.Store(healthy)
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tg.arrived.Add(1)
		select {
		case <-time.After(tg.delay):
		case <-r.Context().Done():
			return // the delivery was cancelled: nothing accepted
		}
		if !tg.healthy.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		tg.mu.Lock()
		tg.got = append(tg.got, string(body))
		tg.mu.Unlock()
	}))
	t.Cleanup(tg.Close)
	return tg
}

func (tg *target) count() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return len(tg.got)
}

// objects are a webhook on port whose events an HTTP trigger posts to url.
func objects(t *testing.T, port int, url string) dev.Objects {
	t.Helper()
	var es v1alpha1.EventSource
	if err := yaml.UnmarshalStrict([]byte(fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: hooks}
spec:
  webhook:
    orders: {port: "%d", endpoint: /orders, method: POST, filter: {expression: "body.id != 'drop'"}}
`, port)), &es); err != nil {
		t.Fatal(err)
	}
	var s v1alpha1.Sensor
	if err := yaml.UnmarshalStrict([]byte(fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata: {name: orders}
spec:
  dependencies:
    - {name: order, eventSourceName: hooks, eventName: orders}
  triggers:
    - template:
        name: notify
        http:
          url: %s
          payload:
            - src: {dependencyName: order, dataKey: body.id}
              dest: id
      policy:
        status: {allow: [200]}
`, url)), &s); err != nil {
		t.Fatal(err)
	}
	return dev.Objects{EventSources: []*v1alpha1.EventSource{&es}, Sensors: []*v1alpha1.Sensor{&s}}
}

// running is a dev.Run in the background.
type running struct {
	cancel    context.CancelFunc
	done      chan error
	logs      *observer.ObservedLogs
	endpoints dev.Endpoints
}

func start(t *testing.T, objs dev.Objects, opts dev.Options) *running {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	opts.Logger = zap.New(core)
	opts.BrokerAddr = "127.0.0.1:0"
	ready := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), logs: logs}
	opts.Ready = func(e dev.Endpoints) { r.endpoints = e; close(ready) }
	go func() { r.done <- dev.Run(ctx, objs, opts) }()
	select {
	case <-ready:
	case err := <-r.done:
		t.Fatalf("dev.Run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("dev.Run not ready after 30s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Error("dev.Run did not return")
		}
	})
	return r
}

// stop cancels the run and returns how long Run took to return.
func (r *running) stop(t *testing.T) time.Duration {
	t.Helper()
	began := time.Now()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("dev.Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dev.Run did not return within 30s of the stop")
	}
	r.done <- nil // for the cleanup
	return time.Since(began)
}

// post sends one order as a webhook client does: a 503 means the event was
// not stored and is sent again (with backoff), anything else but 200 fails.
func post(t *testing.T, port int, id string) {
	t.Helper()
	for attempt, wait := 0, 50*time.Millisecond; ; attempt, wait = attempt+1, 2*wait {
		resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/orders", port), "application/json", strings.NewReader(`{"id":"`+id+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
			return
		case resp.StatusCode == http.StatusServiceUnavailable && attempt < 5:
			t.Logf("POST %s = 503, sending it again in %v", id, wait)
			time.Sleep(wait)
		default:
			t.Fatalf("POST = %d, want 200", resp.StatusCode)
		}
	}
}

func tempDirs(t *testing.T, tmp string) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(tmp, "flint-dev-*"))
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

func TestIdleStopIsFastAndCleansUp(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			tg := newTarget(t, true, 0)
			port := freeport.Port(t)
			r := start(t, objects(t, port, tg.URL), dev.Options{ViaHTTP: w.viaHTTP})
			post(t, port, "one")
			waitFor(t, func() bool { return tg.count() == 1 })
			if d := r.stop(t); d > time.Second {
				t.Errorf("idle stop took %s, want at most 1s", d)
			}
			if dirs := tempDirs(t, tmp); len(dirs) != 0 {
				t.Errorf("temporary data directories left: %v", dirs)
			}
		})
	}
}

func TestStopDrainsInFlightEvents(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			tg := newTarget(t, true, 200*time.Millisecond)
			port := freeport.Port(t)
			r := start(t, objects(t, port, tg.URL), dev.Options{ViaHTTP: w.viaHTTP})
			for i := range 5 {
				post(t, port, fmt.Sprint(i))
			}
			r.stop(t)
			if n := tg.count(); n != 5 {
				t.Errorf("%d of 5 accepted events delivered before the stop returned", n)
			}
			if dirs := tempDirs(t, tmp); len(dirs) != 0 {
				t.Errorf("temporary data directories left: %v", dirs)
			}
		})
	}
}

func TestStopKeepsUndeliveredEvents(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			tg := newTarget(t, false, 0)
			port := freeport.Port(t)
			objs := objects(t, port, tg.URL)
			r := start(t, objs, dev.Options{ViaHTTP: w.viaHTTP, DrainTimeout: 300 * time.Millisecond})
			post(t, port, "kept")
			r.stop(t)

			dirs := tempDirs(t, tmp)
			if len(dirs) != 1 {
				t.Fatalf("temporary data directories after a stop with an undelivered event: %v, want one kept", dirs)
			}
			warned := r.logs.FilterField(zap.String("dataDir", dirs[0])).FilterLevelExact(zapcore.WarnLevel)
			if warned.Len() != 1 || !strings.Contains(fmt.Sprint(warned.All()[0].ContextMap()["resume"]), "--data-dir "+dirs[0]) {
				t.Fatalf("no warning naming the kept directory and how to resume; logs: %v", r.logs.All())
			}

			// Resuming on the kept directory delivers the event.
			tg.healthy.Store(true)
			again := start(t, objs, dev.Options{ViaHTTP: w.viaHTTP, DataDir: dirs[0]})
			waitFor(t, func() bool { return tg.count() == 1 })
			again.stop(t)
			if _, err := os.Stat(dirs[0]); err != nil {
				t.Errorf("the --data-dir directory is gone: %v", err)
			}
			// Its note no longer says events are undelivered, and a later run does
			// not name it.
			if _, err := os.Stat(filepath.Join(dirs[0], "UNDELIVERED")); err == nil {
				t.Error("the UNDELIVERED note stays after its events were delivered")
			}
			if _, err := os.Stat(filepath.Join(dirs[0], "DELIVERED")); err != nil {
				t.Errorf("no DELIVERED note: %v", err)
			}
			later := start(t, objs, dev.Options{ViaHTTP: w.viaHTTP})
			later.stop(t)
			if named := later.logs.FilterField(zap.String("dataDir", dirs[0])); named.Len() != 0 {
				t.Errorf("a later run still names the delivered directory: %v", named.All())
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStopWithDataDirHandsBackBufferedEvents(t *testing.T) {
	for _, w := range wirings {
		t.Run(w.name, func(t *testing.T) {
			dataDir := t.TempDir()
			slow := newTarget(t, true, 300*time.Millisecond)
			port := freeport.Port(t)
			opts := dev.Options{ViaHTTP: w.viaHTTP, DataDir: dataDir}
			opts.Broker.Concurrency = 1
			r := start(t, objects(t, port, slow.URL), opts)
			const n = 6
			for i := range n {
				post(t, port, fmt.Sprint(i))
			}
			r.stop(t)
			first := slow.count()
			if first == n {
				t.Skip("every event was delivered before the stop; nothing was buffered")
			}

			fast := newTarget(t, true, 0)
			began := time.Now()
			again := start(t, objects(t, port, fast.URL), opts)
			deadline := time.Now().Add(10 * time.Second)
			for first+fast.count() < n && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := first + fast.count(); got < n {
				t.Fatalf("%d of %d events delivered within 10s of the restart (%d before the stop)", got, n, first)
			}
			t.Logf("%d events delivered before the stop, the other %d within %s of the restart", first, n-first, time.Since(began).Round(time.Millisecond))
			if damaged := again.logs.FilterMessageSnippet("event store is damaged"); damaged.Len() != 0 {
				t.Errorf("an intact store with events handed back reported as damaged: %v", damaged.All())
			}
			again.stop(t)
		})
	}
}
