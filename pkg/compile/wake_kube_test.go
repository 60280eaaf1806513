package compile_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flintevents/flint/pkg/kubetest"
)

// TestWakePingSourcesOnAPIServer creates, with a server-side dry run on a
// real API server that serves Knative Eventing's PingSource CRD, every
// PingSource compile writes to wake a pull source: each is admitted.
func TestWakePingSourcesOnAPIServer(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "knative.dev/eventing").Output()
	if err != nil {
		t.Fatalf("locating knative.dev/eventing: %v", err)
	}
	env.InstallCRDs(t, filepath.Join(strings.TrimSpace(string(out)), "config", "core", "resources", "pingsource.yaml"))
	ns := env.Namespace(t)

	in := loadPath(t, "testdata/source-kinds.yaml")
	for _, es := range in.EventSources {
		es.Namespace = ns
	}
	gvr := schema.GroupVersionResource{Group: "sources.knative.dev", Version: "v1", Resource: "pingsources"}
	created := 0
	for _, o := range mustCluster(t, in) {
		if o.Kind() != "PingSource" {
			continue
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o.Value)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: m}
		if _, err := env.Clients.Dynamic.Resource(gvr).Namespace(ns).Create(t.Context(), u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			t.Errorf("PingSource %s is refused: %v", u.GetName(), err)
			continue
		}
		created++
	}
	if created == 0 {
		t.Fatal("no PingSource was compiled")
	}
}
