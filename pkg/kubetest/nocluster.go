package kubetest

import (
	"testing"

	"k8s.io/client-go/rest"

	"github.com/flintevents/flint/pkg/kube"
)

// NoCluster are clients of an API server that is not there, for code that
// needs clients to build but does no I/O while building (triggers, sensors).
func NoCluster(t testing.TB) *kube.Clients {
	t.Helper()
	c, err := kube.New(&rest.Config{Host: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
