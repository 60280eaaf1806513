package cli

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestDevProcs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ available, want int }{
		{1, 1},
		{2, 1},
		{3, 1},
		{4, 2},
		{16, 8},
	} {
		if got := devProcs(tc.available); got != tc.want {
			t.Errorf("devProcs(%d) = %d, want %d", tc.available, got, tc.want)
		}
	}
}

// TestDevPortInUse: a webhook port that something else holds stops `flint
// dev` with the problem at the EventSource's port field, the flag that helps,
// and no temporary store left behind. Not parallel: it sets TMPDIR (and
// GOGC and GOMAXPROCS, which flint dev would otherwise set for the process).
func TestDevPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("GOGC", "100")
	t.Setenv("GOMAXPROCS", strconv.Itoa(runtime.GOMAXPROCS(0)))
	file := filepath.Join(t.TempDir(), "webhook.yaml")
	manifest := fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: webhook}
spec:
  webhook:
    example: {port: "%d", endpoint: /example, method: POST}
`, port)
	if err := os.WriteFile(file, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", "dev", "-f", file, "--broker-addr", "127.0.0.1:0", "--metrics-addr", "off")
	want := fmt.Sprintf("%s: spec.webhook[example].port: port %d is in use (127.0.0.1:%d); something else listens there: stop it, give the entry another port, or bind another interface with --listen-host\n", file, port, port)
	if code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, want 1 with\n  %s\nout:\n%s\nerr:\n%s", code, want, out, errOut)
	}
	if strings.Contains(errOut, "undelivered") {
		t.Errorf("a start that failed speaks of undelivered events:\n%s", errOut)
	}
	if dirs, _ := filepath.Glob(filepath.Join(tmp, "flint-dev-*")); len(dirs) != 0 {
		t.Errorf("temporary data directories left: %v", dirs)
	}
}
