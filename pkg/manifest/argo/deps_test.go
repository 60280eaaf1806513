package argo_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestLinksNoKnativeEventing holds the package to what source images load
// their EventSource with it for: it links no Knative Eventing package.
func TestLinksNoKnativeEventing(t *testing.T) {
	t.Parallel()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		msg := "DEPENDENCIES NOT CHECKED: no go command on PATH: " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	cmd := exec.CommandContext(t.Context(), goCmd, "list", "-deps", ".")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderr.String())
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps listed nothing")
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "knative.dev/eventing") || strings.HasPrefix(p, "github.com/flintevents/flint/pkg/manifest/knative") {
			t.Errorf("package argo links %s", p)
		}
	}
}
