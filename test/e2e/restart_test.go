package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/freeport"
)

// TestRestartDeliversPending stops flint dev while an accepted event is still
// failing at its trigger target, and checks that a restart on the same data
// directory delivers it.
func TestRestartDeliversPending(t *testing.T) {
	t.Parallel()
	var healthy atomic.Bool
	tg := newTarget(t, func(int) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return http.StatusInternalServerError
	})
	port := freeport.Port(t)
	dataDir := t.TempDir()
	docs := webhookYAML(port, tg.URL, "")
	hook := fmt.Sprintf("http://127.0.0.1:%d/orders", port)

	first := startDev(t, docs, nil, "--data-dir", dataDir)
	waitListening(t, port)
	if code, resp := post(t, http.MethodPost, hook, "application/json", `{"kind":"order","id":"pending","amount":99}`, "X-Customer", "acme"); code != http.StatusOK {
		t.Fatalf("POST = %d %q", code, resp)
	}
	first.waitLog("trigger failed", map[string]string{"trigger": "notify"})
	first.stop()

	healthy.Store(true)
	second := startDev(t, docs, nil, "--data-dir", dataDir)
	waitListening(t, port)
	got := tg.next(t, second)
	if want := `"id":"pending"`; !strings.Contains(string(got.Body), want) {
		t.Fatalf("delivered payload %s lacks %s", got.Body, want)
	}
	select {
	case dup := <-tg.got:
		t.Fatalf("event delivered twice after restart: %s", dup.Body)
	case <-time.After(time.Second):
	}
}
