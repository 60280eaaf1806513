package resources_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	duckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
	pkgduckv1 "knative.dev/pkg/apis/duck/v1"

	"github.com/flintevents/flint/broker/controller/resources"
)

func TestIngressURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host, ns, name, want string
	}{
		{"broker-ingress.flint-system.svc.cluster.local", "default", "default", "http://broker-ingress.flint-system.svc.cluster.local/default/default"},
		{"127.0.0.1:8080", "team-a", "orders.v1", "http://127.0.0.1:8080/team-a/orders.v1"},
	}
	for _, tc := range tests {
		if got := resources.IngressURL(tc.host, tc.ns, tc.name).String(); got != tc.want {
			t.Errorf("IngressURL(%q, %q, %q) = %s, want %s", tc.host, tc.ns, tc.name, got, tc.want)
		}
		addr := resources.Address(tc.host, tc.ns, tc.name)
		if addr.URL.String() != tc.want || addr.Name == nil || *addr.Name != "http" {
			t.Errorf("Address(%q, %q, %q) = %+v, want name http and URL %s", tc.host, tc.ns, tc.name, addr, tc.want)
		}
	}
}

func TestInNamespace(t *testing.T) {
	t.Parallel()
	uri := apis.HTTP("example.com")
	tests := []struct {
		name   string
		dest   pkgduckv1.Destination
		wantNS string // of the ref; "" when there is none
	}{
		{"uri only", pkgduckv1.Destination{URI: uri}, ""},
		{"ref without namespace", pkgduckv1.Destination{Ref: &pkgduckv1.KReference{Kind: "Service", APIVersion: "v1", Name: "s"}}, "team-a"},
		{"ref with namespace", pkgduckv1.Destination{Ref: &pkgduckv1.KReference{Kind: "Service", APIVersion: "v1", Name: "s", Namespace: "other"}}, "other"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := tc.dest.DeepCopy()
			got := resources.InNamespace(tc.dest, "team-a")
			switch {
			case tc.wantNS == "" && got.Ref != nil:
				t.Errorf("got a ref %+v, want none", got.Ref)
			case tc.wantNS != "" && got.Ref.Namespace != tc.wantNS:
				t.Errorf("ref namespace = %q, want %q", got.Ref.Namespace, tc.wantNS)
			}
			if tc.dest.Ref != nil && tc.dest.Ref.Namespace != before.Ref.Namespace {
				t.Errorf("the given destination was modified: %+v", tc.dest.Ref)
			}
		})
	}
}

func TestDeadLetterSink(t *testing.T) {
	t.Parallel()
	ref := pkgduckv1.Destination{Ref: &pkgduckv1.KReference{Kind: "Service", APIVersion: "v1", Name: "dlq"}}
	retry := int32(3)
	tests := []struct {
		name     string
		delivery *duckv1.DeliverySpec
		wantRef  bool
	}{
		{"no delivery", nil, false},
		{"delivery without sink", &duckv1.DeliverySpec{Retry: &retry}, false},
		{"sink ref", &duckv1.DeliverySpec{DeadLetterSink: &ref}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := &eventingv1.Trigger{ObjectMeta: metav1.ObjectMeta{Namespace: "ns"}, Spec: eventingv1.TriggerSpec{Delivery: tc.delivery}}
			b := &eventingv1.Broker{ObjectMeta: metav1.ObjectMeta{Namespace: "ns"}, Spec: eventingv1.BrokerSpec{Delivery: tc.delivery}}
			for what, got := range map[string]*pkgduckv1.Destination{"trigger": resources.DeadLetterSink(tr), "broker": resources.BrokerDeadLetterSink(b)} {
				if (got != nil) != tc.wantRef {
					t.Fatalf("%s: sink = %+v, want one: %v", what, got, tc.wantRef)
				}
				if got != nil && (got.Ref.Name != "dlq" || got.Ref.Namespace != "ns") {
					t.Errorf("%s: sink ref = %+v, want dlq in ns", what, got.Ref)
				}
			}
		})
	}
}
