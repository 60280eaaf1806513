package kubetest_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flintevents/flint/pkg/kube"
	"github.com/flintevents/flint/pkg/kubetest"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

const argoCRDs = "../../test/crds/argo-workflows.yaml"

var configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

func TestConfigMapRoundTrip(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	ns := env.Namespace(t)
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": "settings"},
		"data":       map[string]any{"url": "http://example.com/hook", "retries": "3"},
	}}
	if _, err := env.Clients.Dynamic.Resource(configMaps).Namespace(ns).Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating ConfigMap: %v", err)
	}
	got, err := env.Clients.Dynamic.Resource(configMaps).Namespace(ns).Get(t.Context(), "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading ConfigMap back: %v", err)
	}
	data, _, _ := unstructured.NestedStringMap(got.Object, "data")
	want := map[string]string{"url": "http://example.com/hook", "retries": "3"}
	if !maps.Equal(data, want) {
		t.Errorf("ConfigMap data = %v, want %v", data, want)
	}
	// The typed client sees the same object.
	typed, err := env.Clients.Core.ConfigMaps(ns).Get(t.Context(), "settings", metav1.GetOptions{})
	if err != nil || typed.Data["url"] != want["url"] {
		t.Errorf("typed client: %v, %v", typed, err)
	}
}

func TestInstallCRDsMapsKinds(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	env.InstallCRDs(t, argoCRDs)
	// Installing again is harmless: tests of one binary share the server.
	env.InstallCRDs(t, argoCRDs)

	tests := []struct {
		kind, resource, short string
		scope                 meta.RESTScopeName
	}{
		{"Workflow", "workflows", "wf", meta.RESTScopeNameNamespace},
		{"WorkflowTemplate", "workflowtemplates", "wftmpl", meta.RESTScopeNameNamespace},
		{"ClusterWorkflowTemplate", "clusterworkflowtemplates", "cwft", meta.RESTScopeNameRoot},
		{"CronWorkflow", "cronworkflows", "cronwf", meta.RESTScopeNameNamespace},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			t.Parallel()
			m, err := env.Clients.Mapper.RESTMapping(schema.GroupKind{Group: "argoproj.io", Kind: tt.kind}, "v1alpha1")
			if err != nil {
				t.Fatalf("RESTMapping: %v", err)
			}
			if m.Resource.Resource != tt.resource || m.Scope.Name() != tt.scope {
				t.Errorf("mapping = %s %s, want %s %s", m.Resource.Resource, m.Scope.Name(), tt.resource, tt.scope)
			}
			gvr, err := env.Clients.Mapper.ResourceFor(schema.GroupVersionResource{Resource: tt.short})
			if err != nil || gvr.Resource != tt.resource {
				t.Errorf("short name %s resolves to %v (%v), want %s", tt.short, gvr, err, tt.resource)
			}
		})
	}
}

func TestInstallCRDsThenCreate(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	env.InstallCRDs(t, argoCRDs)
	ns := env.Namespace(t)

	m, err := env.Clients.Mapper.RESTMapping(schema.GroupKind{Group: "argoproj.io", Kind: "Workflow"}, "v1alpha1")
	if err != nil {
		t.Fatalf("RESTMapping: %v", err)
	}
	wf := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Workflow",
		"metadata":   map[string]any{"generateName": "hello-"},
		"spec": map[string]any{
			"entrypoint": "main",
			"arguments":  map[string]any{"parameters": []any{map[string]any{"name": "message", "value": "hi"}}},
		},
		"status": map[string]any{"phase": "Running"},
	}}
	created, err := env.Clients.Dynamic.Resource(m.Resource).Namespace(ns).Create(t.Context(), wf, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating Workflow: %v", err)
	}
	if !strings.HasPrefix(created.GetName(), "hello-") || len(created.GetName()) == len("hello-") {
		t.Errorf("generated name = %q, want hello-<suffix>", created.GetName())
	}
	got, err := env.Clients.Dynamic.Resource(m.Resource).Namespace(ns).Get(t.Context(), created.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading Workflow back: %v", err)
	}
	params, _, _ := unstructured.NestedSlice(got.Object, "spec", "arguments", "parameters")
	if len(params) != 1 || params[0].(map[string]any)["value"] != "hi" {
		t.Errorf("spec.arguments.parameters = %v, want the one given", params)
	}
	// As in Argo Workflows, a Workflow has no status subresource: the
	// status written with the object is kept.
	if phase, _, _ := unstructured.NestedString(got.Object, "status", "phase"); phase != "Running" {
		t.Errorf("status.phase = %q, want Running", phase)
	}

	// A cluster-scoped kind is created without a namespace.
	cm, err := env.Clients.Mapper.RESTMapping(schema.GroupKind{Group: "argoproj.io", Kind: "ClusterWorkflowTemplate"}, "v1alpha1")
	if err != nil {
		t.Fatalf("RESTMapping: %v", err)
	}
	cwft := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "ClusterWorkflowTemplate",
		"metadata":   map[string]any{"name": ns + "-template"},
		"spec":       map[string]any{"entrypoint": "main"},
	}}
	if _, err := env.Clients.Dynamic.Resource(cm.Resource).Create(t.Context(), cwft, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating ClusterWorkflowTemplate: %v", err)
	}
}

func TestInstallCRDsSkipsOtherKinds(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	env.InstallCRDs(t, "testdata")
	if _, err := env.Clients.Mapper.RESTMapping(schema.GroupKind{Group: "test.flint.dev", Kind: "Widget"}, "v1"); err != nil {
		t.Errorf("Widget from a directory of manifests: %v", err)
	}
	if _, err := env.Clients.Core.Namespaces().Get(t.Context(), "not-applied", metav1.GetOptions{}); err == nil {
		t.Error("the Namespace document was applied; only CRDs should be")
	}
}

func TestNamespaceIsFresh(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	a, b := env.Namespace(t), env.Namespace(t)
	if a == b {
		t.Fatalf("two namespaces named %s", a)
	}
	if !strings.HasPrefix(a, "testnamespaceisfresh-") {
		t.Errorf("namespace %s is not named after the test", a)
	}
	for _, ns := range []string{a, b} {
		got, err := env.Clients.Core.Namespaces().Get(t.Context(), ns, metav1.GetOptions{})
		if err != nil || got.Status.Phase != "Active" {
			t.Errorf("namespace %s: %v, %v", ns, got.Status.Phase, err)
		}
	}
}

func TestNamespaceDeletedAtCleanup(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	var ns string
	t.Run("user", func(t *testing.T) { ns = env.Namespace(t) })
	got, err := env.Clients.Core.Namespaces().Get(t.Context(), ns, metav1.GetOptions{})
	// No namespace controller runs, so deletion shows as Terminating.
	if err == nil && got.DeletionTimestamp == nil {
		t.Errorf("namespace %s still active after its test ended", ns)
	}
}

func TestKubeconfig(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	ns := env.Namespace(t)
	cfg, ok, err := kube.LoadConfig(env.Kubeconfig(t))
	if err != nil || !ok {
		t.Fatalf("loading kubeconfig: ok=%v err=%v", ok, err)
	}
	clients, err := kube.New(cfg)
	if err != nil {
		t.Fatalf("clients: %v", err)
	}
	list, err := clients.Core.Namespaces().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing namespaces through the kubeconfig: %v", err)
	}
	names := make([]string, 0, len(list.Items))
	for _, n := range list.Items {
		names = append(names, n.Name)
	}
	if !slices.Contains(names, ns) {
		t.Errorf("namespaces %v lack %s", names, ns)
	}
}
