package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompileCapsDeliveryTimeout compiles a Sensor whose http trigger waits
// 600 s: the Trigger's delivery timeout is the revision's 300 s, and a
// warning names the trigger's timeout field and its file.
func TestCompileCapsDeliveryTimeout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := run(t, "", "compile", "-f", "testdata/compile/timeouts.yaml", "-o", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	want := "warning: testdata/compile/timeouts.yaml#2: spec.triggers[0].template.http.timeout: one attempt may take 10m0s, longer than the 5m0s"
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	trigger, err := os.ReadFile(filepath.Join(dir, "default_trigger_slow-order.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(trigger), "timeout: PT5M\n") {
		t.Errorf("Trigger's delivery timeout is not PT5M:\n%s", trigger)
	}
}
