package compile

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"

	"github.com/flintevents/flint/pkg/kubetest"
)

// TestResourceOfMatchesAPIServer checks the resource and scope compile
// writes RBAC rules for against what a real API server serves, for every
// built-in kind it serves.
func TestResourceOfMatchesAPIServer(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	_, lists, err := dc.ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || r.Kind == "" {
				continue // subresources
			}
			gk := schema.GroupKind{Group: gv.Group, Kind: r.Kind}
			resource, clusterScoped := resourceOf(gk)
			if resource != r.Name || clusterScoped == r.Namespaced {
				t.Errorf("resourceOf(%s) = %s, cluster-scoped %v; the API server serves %s, namespaced %v",
					gk, resource, clusterScoped, r.Name, r.Namespaced)
			}
			checked++
		}
	}
	if checked < 50 {
		t.Fatalf("checked %d kinds, want the API server's built-in ones (at least 50)", checked)
	}
	t.Logf("checked %d kinds", checked)
}
