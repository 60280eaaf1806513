package broker_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"
	"k8s.io/apimachinery/pkg/types"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	pkgduckv1 "knative.dev/pkg/apis/duck/v1"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/broker/internal/brokertest"
	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

func TestApplyRejectsInvalid(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	ok := "http://example.com"
	tests := []struct {
		name    string
		brokers []*eventingv1.Broker
		trigger *eventingv1.Trigger
		want    string
	}{
		{name: "ref-only subscriber", trigger: newTrigger("t", "b", ok, func(tr *eventingv1.Trigger) {
			tr.Spec.Subscriber = pkgduckv1.Destination{Ref: &pkgduckv1.KReference{Kind: "Service", Name: "fn", APIVersion: "serving.knative.dev/v1"}}
		}), want: "trigger default/t: spec.subscriber.ref"},
		{name: "no subscriber", trigger: newTrigger("t", "b", ok, func(tr *eventingv1.Trigger) { tr.Spec.Subscriber = pkgduckv1.Destination{} }),
			want: "trigger default/t: spec.subscriber.uri: missing field(s)"},
		{name: "relative subscriber", trigger: newTrigger("t", "b", "/path"), want: "spec.subscriber.uri"},
		{name: "unknown broker", trigger: newTrigger("t", "nope", ok), want: `trigger default/t: spec.broker: broker "nope" not found in namespace "default"`},
		{name: "no broker", trigger: newTrigger("t", "", ok), want: "trigger default/t: spec.broker: missing field(s)"},
		{name: "bad filter", trigger: newTrigger("t", "b", ok, func(tr *eventingv1.Trigger) {
			tr.Spec.Filters = []eventingv1.SubscriptionsAPIFilter{{Exact: map[string]string{"type": "a"}, Prefix: map[string]string{"type": "b"}}}
		}), want: "spec.filters[0]"},
		{name: "bad delivery", trigger: newTrigger("t", "b", ok, withDelivery(delivery(1, "soon", ""))), want: "spec.delivery.backoffDelay"},
		{name: "bad broker delivery", brokers: []*eventingv1.Broker{newBroker("b", delivery(1, "soon", ""))}, want: "broker default/b: spec.delivery.backoffDelay"},
		{name: "bad trigger name", trigger: newTrigger("Bad_Name", "b", ok), want: "metadata.name"},
		{name: "cross-namespace brokerRef", trigger: newTrigger("t", "", ok, func(tr *eventingv1.Trigger) {
			tr.Spec.BrokerRef = &pkgduckv1.KReference{Name: "b", Namespace: "other"}
		}), want: "spec.brokerRef.namespace"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bs := tc.brokers
			if bs == nil {
				bs = brokers("b")
			}
			var ts []*eventingv1.Trigger
			if tc.trigger != nil {
				ts = append(ts, tc.trigger)
			}
			err := p.dp.Apply(context.Background(), bs, ts)
			if !errors.Is(err, broker.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Apply error = %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
}

func TestApplyReportsEveryProblem(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	bs := []*eventingv1.Broker{newBroker("b", nil), newBroker("b", nil), newBroker("slow", delivery(-1, "PT0S", ""))}
	ts := []*eventingv1.Trigger{
		newTrigger("t", "nope", "/path", func(tr *eventingv1.Trigger) {
			tr.Spec.Filters = []eventingv1.SubscriptionsAPIFilter{{}, {Exact: map[string]string{"Type": "a"}}}
		}),
		newTrigger("t", "b", "http://example.com"),
		newTrigger("u", "", "http://example.com", withDelivery(delivery(1, "soon", "")), func(tr *eventingv1.Trigger) {
			tr.Spec.BrokerRef = &pkgduckv1.KReference{Name: "b", Namespace: "other"}
		}),
	}
	err := p.dp.Apply(context.Background(), bs, ts)
	if !errors.Is(err, broker.ErrInvalid) {
		t.Fatalf("Apply error = %v, want ErrInvalid", err)
	}
	want := []string{
		"invalid broker configuration: broker default/b: metadata.name: defined twice",
		"invalid broker configuration: broker default/slow: spec.delivery.backoffDelay: invalid value: PT0S; must be a positive ISO-8601 duration such as PT0.2S or P1DT2H",
		"invalid broker configuration: broker default/slow: spec.delivery.retry: invalid value: -1; must not be negative",
		`invalid broker configuration: trigger default/t: spec.broker: broker "nope" not found in namespace "default"`,
		"invalid broker configuration: trigger default/t: spec.filters[1].exact[Type]: invalid attribute name, must match ^[a-z][a-z0-9]*$",
		"invalid broker configuration: trigger default/t: spec.subscriber.uri: invalid value: /path; must be an absolute http(s) URL",
		"invalid broker configuration: trigger default/t: metadata.name: defined twice",
		"invalid broker configuration: trigger default/u: spec.brokerRef.namespace: cross-namespace brokers are not supported",
		"invalid broker configuration: trigger default/u: spec.delivery.backoffDelay: invalid value: soon; must be a positive ISO-8601 duration such as PT0.2S or P1DT2H",
	}
	if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, want) {
		t.Errorf("Apply error lines =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestApplyRejectsWithoutChanges(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	err := p.dp.Apply(context.Background(), brokers("b"), []*eventingv1.Trigger{newTrigger("t", "missing", "http://x")})
	if err == nil {
		t.Fatal("Apply accepted a trigger of an unknown broker")
	}
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("e", "t"), http.StatusNotFound)
}

func TestApplyUpdatesAndRemovesTriggers(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	one := brokertest.NewSink(t, nil)
	two := brokertest.NewSink(t, nil)
	moved := brokertest.NewSink(t, nil)
	p.apply(t, brokers("b"), newTrigger("t1", "b", one.URL), newTrigger("t2", "b", two.URL))
	if got := p.consumerNames(t, "b"); len(got) != 4 {
		t.Fatalf("consumers = %v, want 4 (each trigger's and its retry lane's)", got)
	}
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("e1", "t"), http.StatusAccepted)
	one.WaitCount(t, waitFor, 1)
	two.WaitCount(t, waitFor, 1)

	// Apply again unchanged: idempotent.
	p.apply(t, brokers("b"), newTrigger("t1", "b", one.URL), newTrigger("t2", "b", two.URL))
	// Remove t2, move t1 to another subscriber.
	p.apply(t, brokers("b"), newTrigger("t1", "b", moved.URL))
	if got := p.consumerNames(t, "b"); !slices.Equal(got, []string{bus.ConsumerName("default", "t1", ""), bus.RetryConsumerName("default", "t1", "")}) {
		t.Fatalf("consumers after removing t2 = %v", got)
	}
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("e2", "t"), http.StatusAccepted)
	moved.WaitCount(t, waitFor, 1)
	p.waitIdle(t, "b", "t1")
	if one.Count() != 1 || two.Count() != 1 {
		t.Fatalf("old subscribers received %d and %d events after the update, want 1 and 1", one.Count(), two.Count())
	}

	// A broker no longer listed stops accepting events.
	p.apply(t, brokers("other"))
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("e3", "t"), http.StatusNotFound)
	brokertest.MustPost(t, p.brokerURL("other"), brokertest.NewEvent("e4", "t"), http.StatusAccepted)
}

func TestApplyRecreatedTriggerGetsNewConsumer(t *testing.T) {
	t.Parallel()
	p := startPlane(t, testConfig())
	sink := brokertest.NewSink(t, nil)
	withUID := func(uid string) triggerOpt { return func(tr *eventingv1.Trigger) { tr.UID = types.UID(uid) } }
	p.apply(t, brokers("b"), newTrigger("t", "b", sink.URL, withUID("uid-1")))
	p.apply(t, brokers("b"), newTrigger("t", "b", sink.URL, withUID("uid-2")))
	if got := p.consumerNames(t, "b"); !slices.Equal(got, []string{bus.ConsumerName("default", "t", "uid-2"), bus.RetryConsumerName("default", "t", "uid-2")}) {
		t.Fatalf("consumers = %v, want only the uid-2 one", got)
	}
	brokertest.MustPost(t, p.brokerURL("b"), brokertest.NewEvent("e", "t"), http.StatusAccepted)
	sink.WaitCount(t, waitFor, 1)
}

func TestApplySweepsConsumersOfTriggersRemovedWhileDown(t *testing.T) {
	t.Parallel()
	srv := natsdtest.Run(t)
	sink := brokertest.NewSink(t, nil)
	first := startPlaneOn(t, srv, testConfig(), zaptest.NewLogger(t))
	first.apply(t, brokers("b"), newTrigger("keep", "b", sink.URL), newTrigger("gone", "b", sink.URL))
	first.stop(t)

	second := startPlaneOn(t, srv, testConfig(), zaptest.NewLogger(t))
	second.apply(t, brokers("b"), newTrigger("keep", "b", sink.URL))
	if got := second.consumerNames(t, "b"); !slices.Equal(got, []string{bus.ConsumerName("default", "keep", ""), bus.RetryConsumerName("default", "keep", "")}) {
		t.Fatalf("consumers = %v, want only keep's", got)
	}
}
