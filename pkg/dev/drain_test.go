package dev_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/freeport"
)

// hangingTarget is a trigger target that never answers until the test ends.
func hangingTarget(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var got atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		close(release)
		srv.Close()
	})
	return srv, &got
}

func TestStopRespectsDrainTimeout(t *testing.T) {
	const drainTimeout = time.Second
	const margin = 2 * time.Second
	for _, w := range wirings {
		for _, kept := range []bool{false, true} {
			name := w.name + "/temporary store"
			if kept {
				name = w.name + "/data dir"
			}
			t.Run(name, func(t *testing.T) {
				t.Setenv("TMPDIR", t.TempDir())
				tg, got := hangingTarget(t)
				port := freeport.Port(t)
				opts := dev.Options{ViaHTTP: w.viaHTTP, DrainTimeout: drainTimeout}
				if kept {
					opts.DataDir = t.TempDir()
				}
				r := start(t, objects(t, port, tg.URL), opts)
				post(t, port, "hangs")
				waitFor(t, func() bool { return got.Load() > 0 })
				if d := r.stop(t); d > drainTimeout+margin {
					t.Errorf("stop with a trigger that never answers took %s, want at most --drain-timeout %s + %s", d.Round(time.Millisecond), drainTimeout, margin)
				} else {
					t.Logf("stop took %s", d.Round(time.Millisecond))
				}
			})
		}
	}
}
