package broker_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/flintevents/flint/broker/internal/bus"
)

// TestStreamsOwnedElsewhere runs the data plane as it runs in a cluster,
// where the broker controller writes the streams: Apply refuses a broker
// whose streams do not exist yet, naming the stream, and keeps its ingress
// closed; once the owner created them, Apply opens the ingress and never
// changes their settings, whatever its own configuration says.
func TestStreamsOwnedElsewhere(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.StreamsOwnedElsewhere = true
	cfg.MaxBytes = 64 << 20 // what the data plane would write if it wrote
	p := startPlane(t, cfg)
	ctx := t.Context()

	err := p.dp.Apply(ctx, brokers("b"), nil)
	if err == nil || !strings.Contains(err.Error(), bus.StreamName("default", "b")) {
		t.Fatalf("Apply before the streams exist = %v, want an error naming stream %s", err, bus.StreamName("default", "b"))
	}
	if _, err := p.js.Stream(ctx, bus.StreamName("default", "b")); err == nil {
		t.Fatal("the data plane created a stream it does not own")
	}
	if code := postEvent(t, p.brokerURL("b")); code != http.StatusNotFound {
		t.Errorf("POST to a broker without streams: %d, want 404", code)
	}

	// The owner creates the streams with its own cap.
	const ownerCap = 4 << 20
	owner := bus.StreamOptions{MaxBytes: ownerCap}
	if err := bus.EnsureStream(ctx, p.js, "default", "b", owner); err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureDeadLetterStream(ctx, p.js, "default", "b", owner); err != nil {
		t.Fatal(err)
	}
	p.apply(t, brokers("b"))
	if code := postEvent(t, p.brokerURL("b")); code != http.StatusAccepted {
		t.Errorf("POST once the streams exist: %d, want 202", code)
	}
	s, err := p.js.Stream(ctx, bus.StreamName("default", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.MaxBytes; got != ownerCap {
		t.Errorf("stream max bytes %d after the data plane applied, want the owner's %d", got, ownerCap)
	}
}

// postEvent posts one structured CloudEvent and returns the status.
func postEvent(t *testing.T, url string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url,
		strings.NewReader(`{"specversion":"1.0","id":"e1","source":"test","type":"t"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/cloudevents+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
