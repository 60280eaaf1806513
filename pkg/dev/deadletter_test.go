package dev

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// storeWithDeadLetter starts JetStream on a data directory's store holding one dead
// letter, and returns the directory and the running server.
func storeWithDeadLetter(t *testing.T) (string, *natsd.Server) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), tempPrefix+"dl")
	srv := natsdtest.RunWith(t, natsd.Options{StoreDir: filepath.Join(dir, storeSubdir)})
	nc := natsdtest.ConnectTo(t, srv)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: deadLetterPrefix + "default__b1", Subjects: []string{"flint.deadletter.default.b1.*"}, Storage: jetstream.FileStorage,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "flint.deadletter.default.b1.t1", []byte("gave up")); err != nil {
		t.Fatal(err)
	}
	return dir, srv
}

// A stop does not wait for dead letters: they stay until replayed.
func TestDrainSkipsDeadLetters(t *testing.T) {
	t.Parallel()
	_, srv := storeWithDeadLetter(t)
	nc := natsdtest.ConnectTo(t, srv)
	start := time.Now()
	drain(nc, 3*time.Second, zap.NewNop())
	if d := time.Since(start); d > time.Second {
		t.Errorf("drain waited %s for a dead letter, want no wait", d)
	}
	if n := countUndelivered(nc); n != 1 {
		t.Errorf("countUndelivered = %d, want 1 (the dead letter)", n)
	}
}

// A store holding dead letters is kept and says how to list them.
func TestReleaseNamesDeadLetters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		temp bool
	}{
		{name: "temporary store", temp: true},
		{name: "data dir", temp: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, srv := storeWithDeadLetter(t)
			srv.Shutdown()
			core, logs := observer.New(zapcore.WarnLevel)
			(&store{dir: dir, temp: tc.temp}).release(zap.New(core), 0)
			if _, err := os.Stat(dir); err != nil {
				t.Fatalf("store with dead letters removed: %v", err)
			}
			want := "flint dlq list --data-dir " + dir
			var named bool
			for _, e := range logs.All() {
				if e.ContextMap()["list"] == want {
					named = true
				}
			}
			if !named {
				t.Errorf("no warning pointing at %q among %v", want, logs.All())
			}
		})
	}
}
