package compile_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"

	"github.com/flintevents/flint/pkg/kubetest"
)

// TestServicesAdmittedByRestrictedNamespace creates, with a server-side dry
// run, the pod of every Knative Service compile writes in a namespace that
// enforces the "restricted" Pod Security level on a real API server: each is
// admitted, while a pod without the securityContext is refused there.
func TestServicesAdmittedByRestrictedNamespace(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	ns := env.Namespace(t)
	ctx := t.Context()
	nsObj, err := env.Clients.Core.Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if nsObj.Labels == nil {
		nsObj.Labels = map[string]string{}
	}
	nsObj.Labels["pod-security.kubernetes.io/enforce"] = "restricted"
	if _, err := env.Clients.Core.Namespaces().Update(ctx, nsObj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := env.Clients.Core.Pods(ns)
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}

	// The control: the namespace refuses a pod that sets nothing.
	plain := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "busybox"}}},
	}
	if _, err := pods.Create(ctx, plain, dryRun); err == nil || !strings.Contains(err.Error(), "violates PodSecurity \"restricted") {
		t.Fatalf("a pod without securityContext in a restricted namespace: %v; want it refused by PodSecurity", err)
	}

	inputs := []string{
		"testdata/graph.yaml",
		"testdata/ports.yaml",
		"../../examples/webhook",
		"../../examples/webhook-workflow",
		"../../examples/k8s-resource-lambda",
		"../../test/conformance/testdata/valid/eventsources/resource.yaml",
	}
	admitted := 0
	for _, in := range inputs {
		for _, o := range mustCluster(t, loadPath(t, in)) {
			ksvc, ok := o.Value.(*servingv1.Service)
			if !ok {
				continue
			}
			// The pod a revision of the Service runs, as Knative names its container.
			spec := *ksvc.Spec.Template.Spec.PodSpec.DeepCopy()
			spec.Containers[0].Name = "user-container"
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: ksvc.Name, Namespace: ns, Labels: ksvc.Spec.Template.Labels}, Spec: spec}
			if _, err := pods.Create(ctx, pod, dryRun); err != nil {
				t.Errorf("%s: the pod of Service %s is refused: %v", in, ksvc.Name, err)
				continue
			}
			admitted++
		}
	}
	if admitted == 0 {
		t.Fatal("no Service was compiled")
	}
	t.Logf("%d compiled Services admitted", admitted)
}
