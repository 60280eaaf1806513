package broker_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/broker/internal/brokertest"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func TestMainServesUntilCancelled(t *testing.T) {
	t.Parallel()
	sink := brokertest.NewSink(t, nil)
	manifest := fmt.Sprintf(`apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: default, namespace: demo}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: t, namespace: demo}
spec:
  broker: default
  subscriber: {uri: %q}
`, sink.URL)
	path := filepath.Join(t.TempDir(), "brokers.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs syncBuffer
	go func() {
		done <- broker.Main(ctx, []string{"--addr", addr, "--data-dir", t.TempDir(), "-f", path}, &logs)
	}()
	url := "http://" + addr + "/demo/default"
	brokertest.Eventually(t, waitFor, func() error {
		code, err := brokertest.Post(context.Background(), http.DefaultClient, url, brokertest.NewEvent("main-1", "t"))
		if err != nil {
			return err
		}
		if code != http.StatusAccepted {
			return fmt.Errorf("status %d", code)
		}
		return nil
	})
	sink.WaitCount(t, waitFor, 1)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main returned %v", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Main did not return after cancel")
	}
}

func TestMainRejectsBadInput(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {name: t}\nspec:\n  broker: nope\n  subscriber: {uri: 'http://x'}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	argo := filepath.Join(t.TempDir(), "argo.yaml")
	if err := os.WriteFile(argo, []byte("apiVersion: argoproj.io/v1alpha1\nkind: Sensor\nmetadata: {name: s}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "argo kinds", args: []string{"-f", argo},
			want: `argo.yaml: kind: unknown kind "Sensor" of apiVersion "argoproj.io/v1alpha1"; expected Broker or Trigger (eventing.knative.dev/v1)`},
		{name: "no files", args: nil, want: "no manifests"},
		{name: "missing file", args: []string{"-f", "/nonexistent.yaml"}, want: "no such file"},
		{name: "unknown broker", args: []string{"--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "-f", bad}, want: `broker "nope" not found`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := broker.Main(context.Background(), tc.args, &syncBuffer{})
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Fatalf("Main error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
