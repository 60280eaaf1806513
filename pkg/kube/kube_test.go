package kube_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flintevents/flint/pkg/kube"
)

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://cluster.example:6443
contexts:
- name: c
  context:
    cluster: c
    user: u
current-context: c
users:
- name: u
  user:
    token: t
`

// TestConnect builds clients from a kubeconfig file without dialing, and
// reports no cluster, or a broken kubeconfig, as a host sees them.
func TestConnect(t *testing.T) {
	// Outside a pod and without $KUBECONFIG, unless a case sets it.
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := os.WriteFile(good, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("clusters: [unterminated"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		path       string
		env        string
		wantServer string // "" wants no clients
		wantErr    string
	}{
		{name: "kubeconfig file", path: good, wantServer: "https://cluster.example:6443"},
		{name: "$KUBECONFIG", env: good, wantServer: "https://cluster.example:6443"},
		{name: "no cluster"},
		{name: "missing file", path: filepath.Join(dir, "missing"), wantErr: "loading kubeconfig"},
		{name: "broken file", path: bad, wantErr: "loading kubeconfig"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tc.env)
			c, err := kube.Connect(tc.path)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Connect = %v, %v; want an error saying %q", c, err, tc.wantErr)
				}
			case err != nil:
				t.Fatalf("Connect: %v", err)
			case tc.wantServer == "" && c != nil:
				t.Fatalf("Connect = clients of %s, want none", c.Server())
			case tc.wantServer != "" && (c == nil || c.Server() != tc.wantServer):
				t.Fatalf("Connect = %v, want the clients of %s", c, tc.wantServer)
			}
		})
	}
}
