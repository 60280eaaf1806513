package dispatcher

import (
	"context"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/flintevents/flint/broker/internal/wire"
	"github.com/flintevents/flint/pkg/metrics"
)

// BenchmarkPrepareDelivery covers the per-delivery work outside HTTP and JetStream:
// decoding the stored event, stripping the TTL and building the request.
func BenchmarkPrepareDelivery(b *testing.B) {
	ev := cloudevents.NewEvent()
	ev.SetID("id-123456")
	ev.SetSource("/bench")
	ev.SetType("bench")
	_ = ev.SetData("application/octet-stream", make([]byte, 1024))
	wire.SetTTL(&ev, 254)
	body, err := wire.Append(nil, &ev)
	if err != nil {
		b.Fatal(err)
	}
	target := mustURL(b, "http://127.0.0.1:8080/sink")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		got, err := wire.Decode(body)
		if err != nil {
			b.Fatal(err)
		}
		wire.RemoveTTL(got)
		if _, err := newRequest(ctx, target, got); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeliveryMetrics covers what counting adds to one delivery: the
// clock read and the trigger's event_count and latency, resolved once.
func BenchmarkDeliveryMetrics(b *testing.B) {
	m := metrics.New().Broker.Trigger("default", "default", "t")
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		m.Dispatched(202, start)
	}
}
