package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// brokerSenders is the number of concurrent HTTP clients in saturation runs.
const brokerSenders = 64

// Rates measured earlier in the same run, for the ratios reported by triggers=1.
var rawJetStreamRate, httpHopRate float64

// BenchmarkBroker measures the broker data plane end to end — HTTP senders → ingress →
// JetStream → dispatcher → HTTP sink, 1 KiB events, all in this process — next to the
// ceilings underneath it: raw JetStream and one bare keep-alive HTTP hop.
func BenchmarkBroker(b *testing.B) {
	b.Run("raw-jetstream", benchRawJetStream)
	b.Run("http-hop", benchHTTPHop)
	b.Run("ingress-only", benchIngressOnly)
	b.Run("dispatch-only", benchDispatchOnly)
	for _, triggers := range []int{1, 10} {
		b.Run(fmt.Sprintf("triggers=%d", triggers), func(b *testing.B) { benchSaturated(b, triggers) })
	}
	b.Run("paced=1000/s", func(b *testing.B) { benchPaced(b, 1000) })
}

// benchSaturated sends b.N events as fast as the senders allow and waits for every delivery.
// With one trigger it also reports the share of raw JetStream and of the two-hop ceiling
// (two HTTP hops plus JetStream, the least CPU an event needs in this setup).
func benchSaturated(b *testing.B, triggers int) {
	s := newBrokerSink(b, b.N*triggers)
	r := newBrokerRig(b, triggers, s.URL)
	r.run()
	snd := newEventSender(r.ingressURL, brokerSenders, http.StatusAccepted)
	b.SetBytes(benchEventSize)
	rate := measure(b, b.N, func() {
		snd.fire(b, b.N, brokerSenders, 0, "e")
		s.wait(b, time.Minute+time.Duration(b.N)*time.Millisecond)
	})
	b.ReportMetric(rate*float64(triggers), "deliveries/s")
	s.reportLatency(b)
	if triggers == 1 && rawJetStreamRate > 0 && httpHopRate > 0 {
		ceiling := 1 / (2/httpHopRate + 1/rawJetStreamRate)
		b.ReportMetric(100*rate/rawJetStreamRate, "%-of-raw")
		b.ReportMetric(100*rate/ceiling, "%-of-2hop-ceiling")
	}
}

// benchPaced sends b.N events at rate events/s and reports latency.
func benchPaced(b *testing.B, rate float64) {
	s := newBrokerSink(b, b.N)
	r := newBrokerRig(b, 1, s.URL)
	r.run()
	snd := newEventSender(r.ingressURL, brokerSenders, http.StatusAccepted)
	b.ResetTimer()
	snd.fire(b, b.N, brokerSenders, rate, "p")
	s.wait(b, time.Minute)
	b.StopTimer()
	s.reportLatency(b)
}

// benchIngressOnly measures the ingress alone: events accepted (stored) per second.
func benchIngressOnly(b *testing.B) {
	r := newBrokerRig(b, 0, "")
	snd := newEventSender(r.ingressURL, brokerSenders, http.StatusAccepted)
	b.SetBytes(benchEventSize)
	measure(b, b.N, func() { snd.fire(b, b.N, brokerSenders, 0, "i") })
}

// benchDispatchOnly measures the dispatcher alone: it drains a backlog of b.N stored events.
func benchDispatchOnly(b *testing.B) {
	s := newBrokerSink(b, b.N)
	r := newBrokerRig(b, 1, s.URL)
	newEventSender(r.ingressURL, brokerSenders, http.StatusAccepted).fire(b, b.N, brokerSenders, 0, "d")
	b.SetBytes(benchEventSize)
	measure(b, b.N, func() {
		r.run()
		s.wait(b, time.Minute+time.Duration(b.N)*time.Millisecond)
	})
}

// benchHTTPHop measures one bare keep-alive HTTP hop with the same senders and body.
func benchHTTPHop(b *testing.B) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hs.Close()
	snd := newEventSender(hs.URL, brokerSenders, http.StatusAccepted)
	b.SetBytes(benchEventSize)
	httpHopRate = measure(b, b.N, func() { snd.fire(b, b.N, brokerSenders, 0, "h") })
}

// benchRawJetStream publishes b.N payloads asynchronously and consumes them with an
// explicit-ack pull consumer, over the same in-process connection.
func benchRawJetStream(b *testing.B) {
	nc := natsdtest.ConnectTo(b, natsdtest.RunWith(b, natsd.Options{}))
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "RAW", Subjects: []string{"raw"},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	cons, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "c", AckPolicy: jetstream.AckExplicitPolicy,
		MaxAckPending: 1000, DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		b.Fatal(err)
	}
	consumed := make(chan struct{})
	count := 0
	cc, err := cons.Consume(func(m jetstream.Msg) {
		_ = m.Ack()
		if count++; count == b.N {
			close(consumed)
		}
	}, jetstream.PullMaxMessages(500))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()
	b.SetBytes(benchEventSize)
	rawJetStreamRate = measure(b, b.N, func() {
		for i := range b.N {
			msg := &nats.Msg{Subject: "raw", Data: benchPayload, Header: nats.Header{jetstream.MsgIDHeader: []string{fmt.Sprint("m", i)}}}
			if _, err := js.PublishMsgAsync(msg); err != nil {
				b.Fatal(err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-ctx.Done():
			b.Fatal("publishes not acknowledged")
		}
		select {
		case <-consumed:
		case <-ctx.Done():
			b.Fatal("messages not consumed")
		}
	})
}
