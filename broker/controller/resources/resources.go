// Package resources holds the pure builders of the broker controller: the values it
// writes into Broker and Trigger status and the names it looks up, computed from the
// objects alone.
package resources

import (
	"net/url"

	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
	pkgduckv1 "knative.dev/pkg/apis/duck/v1"
)

// IngressURL is the address of a broker: http://<ingressHost>/<namespace>/<name>, the
// path the broker ingress accepts its events on.
func IngressURL(ingressHost, namespace, name string) *apis.URL {
	return &apis.URL{Scheme: "http", Host: ingressHost, Path: "/" + url.PathEscape(namespace) + "/" + url.PathEscape(name)}
}

// Address is the status.address of a broker reached through ingressHost.
func Address(ingressHost, namespace, name string) *pkgduckv1.Addressable {
	scheme := "http"
	return &pkgduckv1.Addressable{Name: &scheme, URL: IngressURL(ingressHost, namespace, name)}
}

// InNamespace returns dest with its ref's namespace defaulted to namespace, as Knative's
// defaulting webhook would have set it; dest itself is not modified.
func InNamespace(dest pkgduckv1.Destination, namespace string) pkgduckv1.Destination {
	if dest.Ref != nil && dest.Ref.Namespace == "" {
		ref := *dest.Ref
		ref.Namespace = namespace
		dest.Ref = &ref
	}
	return dest
}

// DeadLetterSink is the dead-letter sink that applies to a trigger: its own
// spec.delivery.deadLetterSink, else nil (the broker's then applies).
func DeadLetterSink(t *eventingv1.Trigger) *pkgduckv1.Destination {
	if t.Spec.Delivery == nil || t.Spec.Delivery.DeadLetterSink == nil {
		return nil
	}
	dest := InNamespace(*t.Spec.Delivery.DeadLetterSink, t.Namespace)
	return &dest
}

// BrokerDeadLetterSink is a broker's spec.delivery.deadLetterSink, nil when it sets none.
func BrokerDeadLetterSink(b *eventingv1.Broker) *pkgduckv1.Destination {
	if b.Spec.Delivery == nil || b.Spec.Delivery.DeadLetterSink == nil {
		return nil
	}
	dest := InNamespace(*b.Spec.Delivery.DeadLetterSink, b.Namespace)
	return &dest
}
