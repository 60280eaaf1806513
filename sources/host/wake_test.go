package host_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flintevents/flint/sources/host"
)

// TestMainWakes runs a pull source image with FLINT_WAKE: it reads nothing
// until a wake request arrives; a wake request drains the whole backlog into
// the broker and answers once it is stored; a wake request with an empty
// backlog answers at once.
func TestMainWakes(t *testing.T) {
	b := newBroker(t)
	q := queues["wakes"]
	q.add("a", "b", "c")
	port := freePort(t)
	env := map[string]string{
		"EVENTSOURCE_OBJECT": "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\nmetadata: {name: wakes}\nspec:\n  hdfs:\n    example: {directory: /in, path: x, type: CREATE, addresses: [\"127.0.0.1:1\"], hdfsUser: x}\n",
		"K_SINK":             b.URL + "/ns/default",
		"LOG_LEVEL":          "error",
		"PORT":               port,
		"FLINT_WAKE":         "20s",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- host.Main(ctx, drainType, nil, func(k string) string { return env[k] }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Main = %v", err)
		}
	})
	base := "http://127.0.0.1:" + port
	waitHealthy(t, base)

	time.Sleep(200 * time.Millisecond)
	if n := len(b.stored()); n != 0 {
		t.Fatalf("the source stored %d events before any wake request, want 0: it must read only when woken", n)
	}

	wake := func(want int64) {
		t.Helper()
		resp, err := http.Post(base+host.WakePath, "application/json", strings.NewReader(`{"from":"ping"}`))
		if err != nil {
			t.Fatalf("wake: %v", err)
		}
		defer resp.Body.Close()
		var got struct {
			Events int64
			Empty  bool
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&got) != nil {
			t.Fatalf("wake answered %s", resp.Status)
		}
		if got.Events != want || !got.Empty {
			t.Errorf("wake drained %d events (empty %v), want %d and an empty origin", got.Events, got.Empty, want)
		}
	}
	wake(3)
	if n := len(b.stored()); n != 3 {
		t.Errorf("after the wake answered, the broker holds %d events, want 3", n)
	}
	start := time.Now()
	wake(0)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a wake with an empty backlog took %s", took)
	}
	q.add("d", "e")
	wake(2)
	if n := len(b.stored()); n != 5 {
		t.Errorf("the broker holds %d events, want 5", n)
	}
	resp, err := http.Get(base + host.WakePath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET %s = %s, want 405", host.WakePath, resp.Status)
	}
}

// waitHealthy waits until base answers /health.
func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s/health never answered", base)
}

// TestMainWakeRefusals: FLINT_WAKE must be a positive duration, needs PORT,
// excludes FLINT_DRAIN, and only a pull type is woken.
func TestMainWakeRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, wake, port, drain, want string
	}{
		{"not a duration", drainType, "soon", "8080", "", `FLINT_WAKE: "soon" is not a positive duration`},
		{"no port", drainType, "90s", "", "", "FLINT_WAKE: wake requests arrive on PORT, which is not set"},
		{"a push type", "webhook", "90s", "8080", "", "FLINT_WAKE: a webhook source (push) cannot scale to zero"},
		{"with drain", drainType, "90s", "8080", "30s", "FLINT_DRAIN and FLINT_WAKE are exclusive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{
				"EVENTSOURCE_OBJECT": "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\nmetadata: {name: files}\nspec:\n  webhook:\n    hook: {port: \"12000\", endpoint: /x, method: POST}\n  hdfs:\n    example: {directory: /in, path: x, type: CREATE, addresses: [\"127.0.0.1:1\"], hdfsUser: x}\n",
				"K_SINK":             "http://127.0.0.1:1/ns/default",
				"FLINT_WAKE":         tc.wake,
				"PORT":               tc.port,
				"FLINT_DRAIN":        tc.drain,
			}
			err := host.Main(context.Background(), tc.key, nil, func(k string) string { return env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Main = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
