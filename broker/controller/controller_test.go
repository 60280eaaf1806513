package controller_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	duckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/eventing/pkg/client/clientset/versioned"
	"knative.dev/pkg/apis"
	pkgduckv1 "knative.dev/pkg/apis/duck/v1"
	"knative.dev/pkg/logging"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/broker/controller"
	"github.com/flintevents/flint/broker/controller/dataplane"
	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

// waitFor bounds every asynchronous expectation.
const waitFor = 60 * time.Second // generous: the machine may be running every package's tests at once

// connectTimeout is generous: the tests run many servers at once on small machines.
const connectTimeout = 10 * time.Second

// streamCap is the --stream-max-bytes of the controller of start's cluster;
// its data plane is left at the default, as the data plane in a cluster
// reads no stream setting.
const streamCap = 8 << 20

// cluster is a namespace of the test API server with the broker controller and the
// data plane (following the cluster through informers) scoped to it, over one embedded
// JetStream; the ingress is an httptest server.
type cluster struct {
	ns       string
	eventing versioned.Interface
	env      *kubetest.Env
	js       jetstream.JetStream
	ingress  string // base URL of the ingress
}

// newAPI is a namespace of the test API server with the Eventing CRDs and
// an embedded JetStream, with nothing running on them yet.
func newAPI(t *testing.T) (*cluster, *natsd.Server) {
	t.Helper()
	env := kubetest.Start(t)
	env.InstallCRDs(t, eventingCRDs(t)...)
	ns := env.Namespace(t)
	eventing, err := versioned.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	srv := natsdtest.Run(t)
	js, err := jetstream.New(natsdtest.ConnectTo(t, srv, nats.Timeout(connectTimeout)))
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{ns: ns, eventing: eventing, env: env, js: js}, srv
}

func start(t *testing.T) *cluster {
	t.Helper()
	c, srv := newAPI(t)
	env, ns, js := c.env, c.ns, c.js
	logger := zaptest.NewLogger(t)
	retry := int32(1)
	dp, err := broker.New(natsdtest.ConnectTo(t, srv, nats.Timeout(connectTimeout)), broker.Config{
		DefaultDelivery:       &duckv1.DeliverySpec{Retry: &retry},
		DrainTimeout:          time.Second,
		StreamsOwnedElsewhere: true,
	}, logger.Named("dataplane"))
	if err != nil {
		t.Fatal(err)
	}
	ingress := httptest.NewServer(dp.Ingress())
	t.Cleanup(ingress.Close)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	run := func(name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil && ctx.Err() == nil {
				t.Errorf("%s: %v", name, err)
			}
		}()
	}
	run("data plane", func() error { return dp.Run(ctx) })
	run("watch", func() error {
		apply := func(ctx context.Context, bs []*eventingv1.Broker, ts []*eventingv1.Trigger) error {
			refused, err := dp.ApplyValid(ctx, bs, ts)
			if refused != nil {
				logger.Info("refused", zap.Error(refused))
			}
			return err
		}
		return dataplane.Watch(ctx, env.Clients.Dynamic, apply, dataplane.Options{Namespace: ns, Logger: logger.Named("watch")})
	})
	run("controller", func() error {
		return controller.Run(logging.WithLogger(ctx, logger.Named("controller").Sugar()), env.Clients, controller.Options{
			JetStream:       js,
			IngressHost:     strings.TrimPrefix(ingress.URL, "http://"),
			Namespace:       ns,
			ConsumerRecheck: 50 * time.Millisecond,
			MaxBytes:        streamCap,
		})
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	c.ingress = ingress.URL
	return c
}

// eventingCRDs are the Broker and Trigger CRDs of the knative.dev/eventing module in the
// module cache.
func eventingCRDs(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "knative.dev/eventing").Output()
	if err != nil {
		t.Fatalf("locating knative.dev/eventing: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "config", "core", "resources")
	return []string{filepath.Join(dir, "broker.yaml"), filepath.Join(dir, "trigger.yaml")}
}

func newBroker(ns, name string) *eventingv1.Broker {
	return &eventingv1.Broker{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: name,
		Annotations: map[string]string{"eventing.knative.dev/broker.class": controller.BrokerClass},
	}}
}

func newTrigger(ns, name, brokerName string, sub pkgduckv1.Destination) *eventingv1.Trigger {
	return &eventingv1.Trigger{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       eventingv1.TriggerSpec{Broker: brokerName, Subscriber: sub},
	}
}

func uriDest(t *testing.T, s string) pkgduckv1.Destination {
	t.Helper()
	u, err := apis.ParseURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return pkgduckv1.Destination{URI: u}
}

func (c *cluster) createBroker(t *testing.T, b *eventingv1.Broker) {
	t.Helper()
	if _, err := c.eventing.EventingV1().Brokers(c.ns).Create(t.Context(), b, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating broker: %v", err)
	}
}

func (c *cluster) createTrigger(t *testing.T, tr *eventingv1.Trigger) *eventingv1.Trigger {
	t.Helper()
	got, err := c.eventing.EventingV1().Triggers(c.ns).Create(t.Context(), tr, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating trigger: %v", err)
	}
	return got
}

// waitBroker polls the Broker until ok accepts it, failing with the last state seen.
func (c *cluster) waitBroker(t *testing.T, name string, ok func(*eventingv1.Broker) error) *eventingv1.Broker {
	t.Helper()
	var b *eventingv1.Broker
	checkFor(t, func() error {
		var err error
		if b, err = c.eventing.EventingV1().Brokers(c.ns).Get(t.Context(), name, metav1.GetOptions{}); err != nil {
			return err
		}
		return ok(b)
	})
	return b
}

// waitTrigger polls the Trigger until ok accepts it, failing with the last state seen.
func (c *cluster) waitTrigger(t *testing.T, name string, ok func(*eventingv1.Trigger) error) *eventingv1.Trigger {
	t.Helper()
	var tr *eventingv1.Trigger
	checkFor(t, func() error {
		var err error
		if tr, err = c.eventing.EventingV1().Triggers(c.ns).Get(t.Context(), name, metav1.GetOptions{}); err != nil {
			return err
		}
		return ok(tr)
	})
	return tr
}

func brokerReady(b *eventingv1.Broker) error {
	if !b.IsReady() {
		return fmt.Errorf("broker not ready: %+v", b.Status.Conditions)
	}
	return nil
}

func triggerReady(tr *eventingv1.Trigger) error {
	if !tr.Status.IsReady() || tr.Status.ObservedGeneration != tr.Generation {
		return fmt.Errorf("trigger not ready: %+v", tr.Status.Conditions)
	}
	return nil
}

// notReadyBecause accepts a Trigger whose Ready condition is False for reason.
func notReadyBecause(reason string) func(*eventingv1.Trigger) error {
	return func(tr *eventingv1.Trigger) error {
		c := tr.Status.GetCondition(apis.ConditionReady)
		if c == nil || !c.IsFalse() || c.Reason != reason {
			return fmt.Errorf("want Ready False with reason %s, have %+v", reason, tr.Status.Conditions)
		}
		return nil
	}
}

func checkFor(t *testing.T, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", waitFor, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// subscriber is a loopback subscriber recording the ids of the events it receives.
type subscriber struct {
	url string
	ids chan string
}

func newSubscriber(t *testing.T) *subscriber {
	t.Helper()
	s := &subscriber{ids: make(chan string, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		s.ids <- r.Header.Get("Ce-Id")
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// post sends a binary-mode CloudEvent to a broker address and returns the status code.
func post(t *testing.T, address, id string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, address, strings.NewReader(`{"hello":"world"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Ce-Specversion", "1.0")
	req.Header.Set("Ce-Id", id)
	req.Header.Set("Ce-Source", "test")
	req.Header.Set("Ce-Type", "dev.flint.test")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("posting event: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestBrokerTriggerLifecycle creates a Broker and a Trigger, sends an event through the
// Broker's address to a loopback subscriber, then deletes both and checks that their
// consumer and stream are gone.
func TestBrokerTriggerLifecycle(t *testing.T) {
	t.Parallel()
	c := start(t)
	c.createBroker(t, newBroker(c.ns, "default"))
	b := c.waitBroker(t, "default", brokerReady)
	wantAddr := c.ingress + "/" + c.ns + "/default"
	if got := b.Status.Address.URL.String(); got != wantAddr {
		t.Errorf("status.address.url = %s, want %s", got, wantAddr)
	}
	// The controller alone writes the streams' settings: its cap holds, and
	// the data plane, which would write 1 GiB, did not put it back.
	stream := bus.StreamName(c.ns, "default")
	for _, name := range []string{stream, bus.DeadLetterStreamName(c.ns, "default")} {
		s, err := c.js.Stream(t.Context(), name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		if name == stream && s.CachedInfo().Config.MaxBytes != streamCap {
			t.Errorf("stream %s has max bytes %d, want the controller's %d", name, s.CachedInfo().Config.MaxBytes, streamCap)
		}
	}

	sub := newSubscriber(t)
	tr := newTrigger(c.ns, "to-sub", "default", uriDest(t, sub.url))
	tr.Spec.Filter = &eventingv1.TriggerFilter{Attributes: eventingv1.TriggerFilterAttributes{"type": "dev.flint.test"}}
	created := c.createTrigger(t, tr)
	got := c.waitTrigger(t, "to-sub", triggerReady)
	if got.Status.SubscriberURI.String() != sub.url {
		t.Errorf("status.subscriberUri = %s, want %s", got.Status.SubscriberURI, sub.url)
	}
	// Once Ready, the Trigger is written no more: reconciles that change nothing
	// (its informer's own update events, the broker's) leave it as it is.
	time.Sleep(2 * time.Second)
	again, err := c.eventing.EventingV1().Triggers(c.ns).Get(t.Context(), "to-sub", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.ResourceVersion != got.ResourceVersion {
		t.Errorf("a ready trigger was written again: resourceVersion %s, then %s; conditions %+v, then %+v",
			got.ResourceVersion, again.ResourceVersion, got.Status.Conditions, again.Status.Conditions)
	}

	if s, err := c.js.Stream(t.Context(), stream); err != nil {
		t.Errorf("stream %s: %v", stream, err)
	} else if got := s.CachedInfo().Config.MaxBytes; got != streamCap {
		t.Errorf("stream %s has max bytes %d after the data plane applied the broker, want %d", stream, got, streamCap)
	}

	if !slices.Contains(b.Finalizers, controller.FinalizerName) {
		t.Errorf("broker finalizers = %v, want %s", b.Finalizers, controller.FinalizerName)
	}
	if code := post(t, b.Status.Address.URL.String(), "ev-1"); code != http.StatusAccepted {
		t.Fatalf("POST to the broker address: status %d, want 202", code)
	}
	select {
	case id := <-sub.ids:
		if id != "ev-1" {
			t.Errorf("subscriber got event %q, want ev-1", id)
		}
	case <-time.After(waitFor):
		t.Fatal("the subscriber received no event")
	}

	consumer := bus.ConsumerName(c.ns, "to-sub", string(created.UID))
	if _, err := c.js.Consumer(t.Context(), stream, consumer); err != nil {
		t.Fatalf("consumer %s of the ready trigger: %v", consumer, err)
	}
	if err := c.eventing.EventingV1().Triggers(c.ns).Delete(t.Context(), "to-sub", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	checkFor(t, func() error {
		_, err := c.js.Consumer(t.Context(), stream, consumer)
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil
		}
		return fmt.Errorf("consumer %s still there after the trigger was deleted (err %v)", consumer, err)
	})

	if err := c.eventing.EventingV1().Brokers(c.ns).Delete(t.Context(), "default", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	checkFor(t, func() error {
		_, err := c.eventing.EventingV1().Brokers(c.ns).Get(t.Context(), "default", metav1.GetOptions{})
		if !apierrs.IsNotFound(err) {
			return fmt.Errorf("broker still there (err %v)", err)
		}
		if _, err := c.js.Stream(t.Context(), stream); !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("stream %s still there after the broker was deleted (err %v)", stream, err)
		}
		return nil
	})
	// The ingress learns of the deletion through its informer: until then a
	// POST finds no stream and gets a retryable 503, then 404.
	checkFor(t, func() error {
		if code := post(t, wantAddr, "ev-2"); code != http.StatusNotFound {
			return fmt.Errorf("POST to a deleted broker: status %d, want 404", code)
		}
		return nil
	})
}

// TestTriggerStatus checks what a Trigger's status says for each way its broker,
// subscriber and dead-letter sink can be given.
func TestTriggerStatus(t *testing.T) {
	t.Parallel()
	c := start(t)
	c.createBroker(t, newBroker(c.ns, "default"))
	other := newBroker(c.ns, "other")
	c.createBroker(t, other)
	c.waitBroker(t, "default", brokerReady)
	c.waitBroker(t, "other", brokerReady)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: "sensor"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if _, err := c.env.Clients.Core.Services(c.ns).Create(t.Context(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svcRef := func(name string) pkgduckv1.Destination {
		return pkgduckv1.Destination{Ref: &pkgduckv1.KReference{APIVersion: "v1", Kind: "Service", Name: name}}
	}
	sensorURL := "http://sensor." + c.ns + ".svc.cluster.local"

	tests := []struct {
		name    string
		trigger *eventingv1.Trigger
		check   func(*eventingv1.Trigger) error
	}{{
		name:    "broker missing",
		trigger: newTrigger(c.ns, "no-broker", "absent", uriDest(t, "http://example.com")),
		check:   notReadyBecause(controller.ReasonBrokerDoesNotExist),
	}, {
		name:    "subscriber service",
		trigger: newTrigger(c.ns, "to-service", "default", svcRef("sensor")),
		check: all(triggerReady, func(tr *eventingv1.Trigger) error {
			return wantURL("status.subscriberUri", tr.Status.SubscriberURI, sensorURL)
		}),
	}, {
		name: "subscriber broker",
		trigger: newTrigger(c.ns, "to-broker", "default", pkgduckv1.Destination{Ref: &pkgduckv1.KReference{
			APIVersion: "eventing.knative.dev/v1", Kind: "Broker", Name: "other"}}),
		check: all(triggerReady, func(tr *eventingv1.Trigger) error {
			return wantURL("status.subscriberUri", tr.Status.SubscriberURI, c.ingress+"/"+c.ns+"/other")
		}),
	}, {
		name: "subscriber service with a path",
		trigger: func() *eventingv1.Trigger {
			dest := svcRef("sensor")
			dest.URI = &apis.URL{Path: "/events"}
			return newTrigger(c.ns, "to-service-path", "default", dest)
		}(),
		check: all(triggerReady, func(tr *eventingv1.Trigger) error {
			return wantURL("status.subscriberUri", tr.Status.SubscriberURI, sensorURL+"/events")
		}),
	}, {
		name:    "subscriber missing",
		trigger: newTrigger(c.ns, "to-nothing", "default", svcRef("absent")),
		check:   notReadyBecause(controller.ReasonSubscriberResolveFailed),
	}, {
		name: "dead-letter sink service",
		trigger: func() *eventingv1.Trigger {
			tr := newTrigger(c.ns, "with-dls", "default", uriDest(t, "http://example.com/sub"))
			dls := svcRef("sensor")
			tr.Spec.Delivery = &duckv1.DeliverySpec{DeadLetterSink: &dls}
			return tr
		}(),
		check: all(triggerReady, func(tr *eventingv1.Trigger) error {
			return wantURL("status.deadLetterSinkUri", tr.Status.DeadLetterSinkURI, sensorURL)
		}),
	}, {
		name: "dead-letter sink missing",
		trigger: func() *eventingv1.Trigger {
			tr := newTrigger(c.ns, "with-bad-dls", "default", uriDest(t, "http://example.com/sub"))
			dls := svcRef("absent")
			tr.Spec.Delivery = &duckv1.DeliverySpec{DeadLetterSink: &dls}
			return tr
		}(),
		check: notReadyBecause(controller.ReasonDeadLetterSinkResolveFailed),
	}, {
		name: "filter that does not parse",
		trigger: func() *eventingv1.Trigger {
			tr := newTrigger(c.ns, "bad-filter", "default", uriDest(t, "http://example.com/sub"))
			tr.Spec.Filters = []eventingv1.SubscriptionsAPIFilter{{CESQL: "type = = 'x'"}}
			return tr
		}(),
		check: notReadyBecause(controller.ReasonInvalidFilter),
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c.createTrigger(t, tc.trigger)
			c.waitTrigger(t, tc.trigger.Name, tc.check)
		})
	}
}

// sinks is the resource of the Addressable in testdata/sink-crd.yaml.
var sinks = schema.GroupVersionResource{Group: "test.flintevents.dev", Version: "v1", Resource: "sinks"}

// setSinkURL creates the Sink name, or sets its status.address.url; an empty url
// leaves its status without an address.
func (c *cluster) setSinkURL(t *testing.T, name, url string) {
	t.Helper()
	client := c.env.Clients.Dynamic.Resource(sinks).Namespace(c.ns)
	sink, err := client.Get(t.Context(), name, metav1.GetOptions{})
	if apierrs.IsNotFound(err) {
		sink = &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "test.flintevents.dev/v1", "kind": "Sink",
			"metadata": map[string]any{"namespace": c.ns, "name": name},
		}}
		sink, err = client.Create(t.Context(), sink, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatalf("creating sink %s: %v", name, err)
	}
	if url == "" {
		return
	}
	if err := unstructured.SetNestedField(sink.Object, url, "status", "address", "url"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.UpdateStatus(t.Context(), sink, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("setting the address of sink %s: %v", name, err)
	}
}

// TestSubscriberAddressable checks that a subscriber of a kind the controller knows
// nothing of resolves to the status.address.url it publishes, and that the Trigger
// follows it as it appears, moves and goes away.
func TestSubscriberAddressable(t *testing.T) {
	t.Parallel()
	c := start(t)
	c.env.InstallCRDs(t, filepath.Join("testdata", "sink-crd.yaml"))
	c.createBroker(t, newBroker(c.ns, "default"))
	c.waitBroker(t, "default", brokerReady)
	c.setSinkURL(t, "sink", "")
	c.createTrigger(t, newTrigger(c.ns, "to-sink", "default", pkgduckv1.Destination{Ref: &pkgduckv1.KReference{
		APIVersion: "test.flintevents.dev/v1", Kind: "Sink", Name: "sink"}}))
	c.waitTrigger(t, "to-sink", notReadyBecause(controller.ReasonSubscriberResolveFailed))

	for _, url := range []string{"http://sink.example/in", "http://moved.example/in"} {
		c.setSinkURL(t, "sink", url)
		c.waitTrigger(t, "to-sink", all(triggerReady, func(tr *eventingv1.Trigger) error {
			return wantURL("status.subscriberUri", tr.Status.SubscriberURI, url)
		}))
	}

	if err := c.env.Clients.Dynamic.Resource(sinks).Namespace(c.ns).Delete(t.Context(), "sink", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	c.waitTrigger(t, "to-sink", notReadyBecause(controller.ReasonSubscriberResolveFailed))
}

// TestTriggerBeforeBroker checks that a Trigger created before its Broker becomes Ready
// once the Broker exists.
func TestTriggerBeforeBroker(t *testing.T) {
	t.Parallel()
	c := start(t)
	c.createTrigger(t, newTrigger(c.ns, "early", "late", uriDest(t, "http://example.com")))
	c.waitTrigger(t, "early", notReadyBecause(controller.ReasonBrokerDoesNotExist))
	c.createBroker(t, newBroker(c.ns, "late"))
	c.waitTrigger(t, "early", triggerReady)
}

// TestOtherClass checks that Brokers of another class, and their Triggers, are left alone.
func TestOtherClass(t *testing.T) {
	t.Parallel()
	c := start(t)
	b := newBroker(c.ns, "mt")
	b.Annotations["eventing.knative.dev/broker.class"] = "MTChannelBasedBroker"
	c.createBroker(t, b)
	c.createTrigger(t, newTrigger(c.ns, "mt-trigger", "mt", uriDest(t, "http://example.com")))
	// A broker of flint's class created afterwards is reconciled: by then the others
	// have been seen too.
	c.createBroker(t, newBroker(c.ns, "default"))
	c.waitBroker(t, "default", brokerReady)
	got, err := c.eventing.EventingV1().Brokers(c.ns).Get(t.Context(), "mt", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Status.Conditions) != 0 || got.Status.Address != nil || len(got.Finalizers) != 0 {
		t.Errorf("broker of another class was reconciled: finalizers %v, status %+v", got.Finalizers, got.Status)
	}
	tr, err := c.eventing.EventingV1().Triggers(c.ns).Get(t.Context(), "mt-trigger", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Status.Conditions) != 0 {
		t.Errorf("trigger of another class's broker was reconciled: %+v", tr.Status)
	}
	if _, err := c.js.Stream(t.Context(), bus.StreamName(c.ns, "mt")); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Errorf("stream of another class's broker: err %v, want not found", err)
	}
}

func all(checks ...func(*eventingv1.Trigger) error) func(*eventingv1.Trigger) error {
	return func(tr *eventingv1.Trigger) error {
		for _, c := range checks {
			if err := c(tr); err != nil {
				return err
			}
		}
		return nil
	}
}

func wantURL(field string, got *apis.URL, want string) error {
	if got == nil || got.String() != want {
		return fmt.Errorf("%s = %v, want %s", field, got, want)
	}
	if _, err := url.Parse(want); err != nil {
		return err
	}
	return nil
}

// TestProcesses runs the controller, the ingress and the dispatcher as their images do —
// their Main functions with the flags config/ gives them, over one JetStream — and sends
// an event through.
func TestProcesses(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	env.InstallCRDs(t, eventingCRDs(t)...)
	ns := env.Namespace(t)
	eventing, err := versioned.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{ns: ns, eventing: eventing, env: env}
	srv := natsdtest.Run(t)
	kubeconfig := env.Kubeconfig(t)
	ingressAddr, dispatcherAddr, probeAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	common := []string{"--cluster", "--kubeconfig", kubeconfig, "--namespace", ns, "--nats", srv.ClientURL()}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	run := func(name string, main func(context.Context, []string, io.Writer) error, args ...string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := main(ctx, args, &testWriter{t: t, name: name}); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}()
	}
	run("ingress", broker.Main, append(common, "--role=ingress", "--addr", ingressAddr)...)
	run("dispatcher", broker.Main, append(common, "--role=dispatcher", "--addr", dispatcherAddr)...)
	run("controller", controller.Main, "--kubeconfig", kubeconfig, "--namespace", ns, "--nats", srv.ClientURL(),
		"--ingress-host", ingressAddr, "--probe-addr", probeAddr)
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	for _, probe := range []string{ingressAddr + "/readyz", dispatcherAddr + "/readyz", probeAddr + "/healthz"} {
		checkFor(t, func() error {
			resp, err := http.Get("http://" + probe)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %s", probe, resp.Status)
			}
			return nil
		})
	}

	c.createBroker(t, newBroker(ns, "default"))
	b := c.waitBroker(t, "default", brokerReady)
	if want := "http://" + ingressAddr + "/" + ns + "/default"; b.Status.Address.URL.String() != want {
		t.Errorf("status.address.url = %s, want %s", b.Status.Address.URL, want)
	}
	sub := newSubscriber(t)
	c.createTrigger(t, newTrigger(ns, "to-sub", "default", uriDest(t, sub.url)))
	c.waitTrigger(t, "to-sub", triggerReady)
	if code := post(t, "http://"+dispatcherAddr+"/"+ns+"/default", "ev-0"); code != http.StatusNotFound {
		t.Errorf("POST to the dispatcher: status %d, want 404 (it serves no ingress)", code)
	}
	// The ingress may learn of the broker a moment after the controller made it Ready.
	checkFor(t, func() error {
		if code := post(t, b.Status.Address.URL.String(), "ev-1"); code != http.StatusAccepted {
			return fmt.Errorf("POST to the broker address: status %d, want 202", code)
		}
		return nil
	})
	select {
	case id := <-sub.ids:
		if id != "ev-1" {
			t.Errorf("subscriber got event %q, want ev-1", id)
		}
	case <-time.After(waitFor):
		t.Fatal("the subscriber received no event")
	}
}

// freeAddr is a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// testWriter logs a process's output through t; the processes stop in t's cleanup.
type testWriter struct {
	t    *testing.T
	name string
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s: %s", w.name, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
