package broker_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/flintevents/flint/broker/internal/brokertest"
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
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("e0", "t"), http.StatusNotFound)

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
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("e1", "t"), http.StatusAccepted)
	s, err := p.js.Stream(ctx, bus.StreamName("default", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.MaxBytes; got != ownerCap {
		t.Errorf("stream max bytes %d after the data plane applied, want the owner's %d", got, ownerCap)
	}
}
