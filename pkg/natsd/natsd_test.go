package natsd_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

func TestStartModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		port    int
		wantURL bool
	}{
		{name: "in-process only", port: 0, wantURL: false},
		{name: "random loopback port", port: -1, wantURL: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := natsdtest.RunWith(t, natsd.Options{Port: tc.port})
			url := s.ClientURL()
			if got := url != ""; got != tc.wantURL {
				t.Fatalf("ClientURL() = %q, want URL: %v", url, tc.wantURL)
			}
			if tc.wantURL && (!strings.HasPrefix(url, "nats://127.0.0.1:") || strings.HasSuffix(url, ":4222")) {
				t.Fatalf("ClientURL() = %q, want a random 127.0.0.1 port", url)
			}
			roundTrip(t, s)
		})
	}
}

func TestStartRefusesReservedPort(t *testing.T) {
	t.Parallel()
	_, err := natsd.Start(natsd.Options{StoreDir: t.TempDir(), Port: 4222})
	if !errors.Is(err, natsd.ErrReservedPort) {
		t.Fatalf("Start(port 4222) error = %v, want ErrReservedPort", err)
	}
}

func TestRestartKeepsStore(t *testing.T) {
	t.Parallel()
	s := natsdtest.Run(t)
	nc := natsdtest.ConnectTo(t, s)
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "KEEP", Subjects: []string{"keep"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "keep", []byte("x")); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	s.Shutdown()
	s.Shutdown() // idempotent

	s2, err := natsd.Start(natsd.Options{StoreDir: s.StoreDir(), Port: s.Port()})
	if err != nil {
		t.Fatalf("restarting: %v", err)
	}
	t.Cleanup(s2.Shutdown)
	if s2.ClientURL() != s.ClientURL() {
		t.Fatalf("restarted URL %q, want %q", s2.ClientURL(), s.ClientURL())
	}
	js2, _ := jetstream.New(natsdtest.ConnectTo(t, s2))
	st, err := js2.Stream(ctx, "KEEP")
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	if n := st.CachedInfo().State.Msgs; n != 1 {
		t.Fatalf("messages after restart = %d, want 1", n)
	}
}

func roundTrip(t *testing.T, s *natsd.Server) {
	t.Helper()
	js, err := jetstream.New(natsdtest.ConnectTo(t, s))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatalf("creating stream: %v", err)
	}
	ack, err := js.Publish(ctx, "t", []byte("hello"))
	if err != nil {
		t.Fatalf("publishing: %v", err)
	}
	if ack.Sequence != 1 {
		t.Fatalf("sequence = %d, want 1", ack.Sequence)
	}
}

// TestMaxStoreRefusesWhenFull caps the store: a stream that fills it refuses the next
// message and keeps what it stored.
func TestMaxStoreRefusesWhenFull(t *testing.T) {
	t.Parallel()
	s, err := natsd.Start(natsd.Options{StoreDir: t.TempDir(), MaxStore: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "s", Subjects: []string{"s"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	stored := 0
	for ; stored < 1000; stored++ {
		if _, err := js.Publish(ctx, "s", make([]byte, 1024)); err != nil {
			break
		}
	}
	if stored == 0 || stored == 1000 {
		t.Fatalf("stored %d messages of 1 KiB in a 64 KiB store, want some, then a refusal", stored)
	}
	info, err := js.Stream(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != uint64(stored) {
		t.Fatalf("stream holds %d messages, want the %d stored", n, stored)
	}
}
