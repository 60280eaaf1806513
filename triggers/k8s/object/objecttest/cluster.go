// Package objecttest holds what the tests of the k8s and argoWorkflow
// triggers share: the objects they act on in a kubetest cluster, the table of
// problems New reports, and the conformance case of a trigger that creates an
// object. Sensors run through the engine come from pkg/sensor/sensortest.
package objecttest

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/kube"
)

// Create creates the YAML object doc through gvr in ns; with ns "" the
// object is cluster-scoped and deleted when the test ends.
func Create(t *testing.T, clients *kube.Clients, gvr schema.GroupVersionResource, ns, doc string) {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{Object: m}
	var err error
	if ns == "" {
		_, err = clients.Dynamic.Resource(gvr).Create(t.Context(), obj, metav1.CreateOptions{})
		t.Cleanup(func() {
			_ = clients.Dynamic.Resource(gvr).Delete(context.Background(), obj.GetName(), metav1.DeleteOptions{})
		})
	} else {
		_, err = clients.Dynamic.Resource(gvr).Namespace(ns).Create(t.Context(), obj, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatalf("creating %s: %v", gvr.Resource, err)
	}
}

// Get reads the object name of gvr in ns.
func Get(t *testing.T, clients *kube.Clients, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	obj, err := clients.Dynamic.Resource(gvr).Namespace(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading %s %s/%s: %v", gvr.Resource, ns, name, err)
	}
	return obj
}

// List lists the objects of gvr in ns.
func List(t *testing.T, clients *kube.Clients, gvr schema.GroupVersionResource, ns string) []unstructured.Unstructured {
	t.Helper()
	l, err := clients.Dynamic.Resource(gvr).Namespace(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing %s in %s: %v", gvr.Resource, ns, err)
	}
	return l.Items
}
