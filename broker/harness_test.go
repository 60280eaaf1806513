package broker_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	duckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
	pkgduckv1 "knative.dev/pkg/apis/duck/v1"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/broker/deadletter"
	"github.com/flintevents/flint/broker/internal/brokertest"
	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

const waitFor = 15 * time.Second

// plane is a running data plane over an embedded JetStream, its ingress on httptest.
type plane struct {
	srv    *natsd.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	dp     *broker.DataPlane
	url    string // ingress base URL
	cancel context.CancelFunc
	done   chan error
}

// testConfig keeps retries quick.
func testConfig() broker.Config {
	return broker.Config{DefaultDelivery: delivery(2, "PT0.05S", "")}
}

func startPlane(t *testing.T, cfg broker.Config) *plane {
	t.Helper()
	return startPlaneOn(t, natsdtest.Run(t), cfg, zaptest.NewLogger(t))
}

func startPlaneOn(t *testing.T, srv *natsd.Server, cfg broker.Config, logger *zap.Logger) *plane {
	t.Helper()
	nc := natsdtest.ConnectTo(t, srv, nats.ReconnectWait(50*time.Millisecond))
	p := &plane{srv: srv, nc: nc}
	var err error
	if p.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	if p.dp, err = broker.New(nc, cfg, logger); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(p.dp.Ingress())
	t.Cleanup(hs.Close)
	p.url = hs.URL
	p.run(t)
	return p
}

// run starts Run; stop (also at cleanup) ends it.
func (p *plane) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan error, 1)
	go func() { p.done <- p.dp.Run(ctx) }()
	t.Cleanup(func() { p.stop(t) })
}

func (p *plane) stop(t *testing.T) {
	t.Helper()
	p.cancel()
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		p.done = closedErrChan()
	case <-time.After(waitFor):
		t.Fatal("Run did not return after cancel")
	}
}

func closedErrChan() chan error {
	c := make(chan error, 1)
	c <- nil
	return c
}

func (p *plane) apply(t *testing.T, brokers []*eventingv1.Broker, triggers ...*eventingv1.Trigger) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := p.dp.Apply(ctx, brokers, triggers); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func (p *plane) brokerURL(name string) string { return p.url + "/default/" + name }

// waitIdle polls until the trigger's consumer, and the consumer of its retry lane,
// have processed and settled everything in its broker's stream.
func (p *plane) waitIdle(t *testing.T, brokerName, trigger string) {
	t.Helper()
	brokertest.Eventually(t, waitFor, func() error {
		ctx := context.Background()
		s, err := p.js.Stream(ctx, bus.StreamName("default", brokerName))
		if err != nil {
			return err
		}
		for _, name := range []string{bus.ConsumerName("default", trigger, ""), bus.RetryConsumerName("default", trigger, "")} {
			c, err := s.Consumer(ctx, name)
			if err != nil {
				return err
			}
			ci, err := c.Info(ctx)
			if err != nil {
				return err
			}
			if ci.NumAckPending > 0 || ci.NumPending > 0 {
				return fmt.Errorf("consumer %s: %d unacked, %d pending", ci.Name, ci.NumAckPending, ci.NumPending)
			}
		}
		return nil
	})
}

func (p *plane) consumerNames(t *testing.T, brokerName string) []string {
	t.Helper()
	s, err := p.js.Stream(context.Background(), bus.StreamName("default", brokerName))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	l := s.ConsumerNames(context.Background())
	for n := range l.Name() {
		if strings.HasPrefix(n, bus.ConsumerPrefix) { // the keeper is not a trigger's
			names = append(names, n)
		}
	}
	if err := l.Err(); err != nil && !errors.Is(err, jetstream.ErrEndOfData) {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

func newBroker(name string, spec *duckv1.DeliverySpec) *eventingv1.Broker {
	return &eventingv1.Broker{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:       eventingv1.BrokerSpec{Delivery: spec},
	}
}

func brokers(names ...string) []*eventingv1.Broker {
	out := make([]*eventingv1.Broker, len(names))
	for i, n := range names {
		out[i] = newBroker(n, nil)
	}
	return out
}

type triggerOpt func(*eventingv1.Trigger)

func newTrigger(name, brokerName, uri string, opts ...triggerOpt) *eventingv1.Trigger {
	u, err := apis.ParseURL(uri)
	if err != nil {
		panic(err)
	}
	t := &eventingv1.Trigger{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:       eventingv1.TriggerSpec{Broker: brokerName, Subscriber: pkgduckv1.Destination{URI: u}},
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

func withType(typ string) triggerOpt {
	return func(t *eventingv1.Trigger) {
		t.Spec.Filter = &eventingv1.TriggerFilter{Attributes: eventingv1.TriggerFilterAttributes{"type": typ}}
	}
}

func withDelivery(spec *duckv1.DeliverySpec) triggerOpt {
	return func(t *eventingv1.Trigger) { t.Spec.Delivery = spec }
}

// delivery builds a DeliverySpec with linear backoff; empty dls means none.
func delivery(retry int32, backoff, dls string) *duckv1.DeliverySpec {
	policy := duckv1.BackoffPolicyLinear
	spec := &duckv1.DeliverySpec{Retry: &retry, BackoffPolicy: &policy, BackoffDelay: &backoff}
	if dls != "" {
		u, err := apis.ParseURL(dls)
		if err != nil {
			panic(err)
		}
		spec.DeadLetterSink = &pkgduckv1.Destination{URI: u}
	}
	return spec
}

// deadLetters polls until the plane's dead-letter streams hold n letters and returns them.
func (p *plane) deadLetters(t *testing.T, n int) []deadletter.Letter {
	t.Helper()
	var got []deadletter.Letter
	brokertest.Eventually(t, waitFor, func() error {
		var err error
		if got, err = deadletter.List(context.Background(), p.js, deadletter.Filter{}); err != nil {
			return err
		}
		if len(got) != n {
			return fmt.Errorf("%d dead letters, want %d", len(got), n)
		}
		return nil
	})
	return got
}
