package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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
	port := freePort(t)
	dataDir := t.TempDir()
	docs := webhookYAML(port, tg.URL, "")
	hook := fmt.Sprintf("http://127.0.0.1:%d/orders", port)

	first := startDev(t, docs, nil, "--data-dir", dataDir)
	if code, resp := post(t, http.MethodPost, hook, "application/json", `{"kind":"order","id":"pending","amount":99}`); code != http.StatusOK {
		t.Fatalf("POST = %d %q", code, resp)
	}
	first.waitLog("trigger failed", map[string]string{"trigger": "notify"})
	first.stop()

	healthy.Store(true)
	startDev(t, docs, nil, "--data-dir", dataDir)
	got := tg.next(t)
	if want := `"id":"pending"`; !strings.Contains(string(got.Body), want) {
		t.Fatalf("delivered payload %s lacks %s", got.Body, want)
	}
	select {
	case dup := <-tg.got:
		t.Fatalf("event delivered twice after restart: %s", dup.Body)
	case <-time.After(time.Second):
	}
}
