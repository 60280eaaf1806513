package dev_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/freeport"
)

// TestStartFailsEarly: a port that is taken stops Run before it runs, with
// a problem naming the EventSource field that set the port and the flag
// that helps; the temporary store goes with it, and no "undelivered" count
// is logged, since nothing could have been accepted. Not parallel: it sets
// TMPDIR.
func TestStartFailsEarly(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	busyPort := busy.Addr().(*net.TCPAddr).Port
	brokerPort := freeport.Port(t)
	tests := []struct {
		name       string
		sourcePort int
		brokerAddr string
		wantPath   string // of the problem; empty: a plain error
		want       []string
	}{
		{
			name: "a webhook port something else listens on", sourcePort: busyPort, brokerAddr: "127.0.0.1:0",
			wantPath: "spec.webhook[orders].port",
			want:     []string{fmt.Sprintf("port %d is in use (127.0.0.1:%d)", busyPort, busyPort), "--listen-host"},
		},
		{
			name: "a webhook port the broker ingress listens on", sourcePort: brokerPort, brokerAddr: fmt.Sprintf("127.0.0.1:%d", brokerPort),
			wantPath: "spec.webhook[orders].port",
			want:     []string{fmt.Sprintf("port %d is in use", brokerPort), "the broker ingress listens there", "--broker-addr"},
		},
		{
			name: "a broker address something else listens on", sourcePort: freeport.Port(t), brokerAddr: busy.Addr().String(),
			want: []string{"listening for the broker ingress on " + busy.Addr().String(), "--broker-addr"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			core, logs := observer.New(zapcore.DebugLevel)
			opts := dev.Options{Logger: zap.New(core), BrokerAddr: tc.brokerAddr, MetricsAddr: "off",
				Ready: func(dev.Endpoints) { t.Error("Ready called: the run started") }}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := dev.Run(ctx, objects(t, tc.sourcePort, "http://127.0.0.1:1"), opts)
			if err == nil {
				t.Fatal("Run = nil, want an error")
			}
			var problems dev.Problems
			switch {
			case tc.wantPath == "" && errors.As(err, &problems):
				t.Errorf("Run = problems %v, want a plain error", err)
			case tc.wantPath != "":
				if !errors.As(err, &problems) || len(problems) != 1 {
					t.Fatalf("Run = %v, want one problem", err)
				}
				p := problems[0]
				if p.Kind != "EventSource" || p.Name != "hooks" || p.Namespace != "default" || len(p.Err.Paths) != 1 || p.Err.Paths[0] != tc.wantPath {
					t.Errorf("problem = %s %s/%s at %v, want EventSource default/hooks at %s", p.Kind, p.Namespace, p.Name, p.Err.Paths, tc.wantPath)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Run = %q, want it to contain %q", err, w)
				}
			}
			if dirs := tempDirs(t, tmp); len(dirs) != 0 {
				t.Errorf("temporary data directories left: %v", dirs)
			}
			for _, e := range logs.All() {
				if _, ok := e.ContextMap()["undelivered"]; ok {
					t.Errorf("logged %q with undelivered=%v; nothing was accepted", e.Message, e.ContextMap()["undelivered"])
				}
			}
		})
	}
}
