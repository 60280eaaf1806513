package sensor

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flintevents/flint/pkg/natsd/natsdtest"
	"github.com/flintevents/flint/pkg/sensor"
)

// bothBodies are the bodies of the `dep-a && dep-b` trigger of the
// conditions sensor that the target received.
func bothBodies(rec *recorder) []string {
	var out []string
	for _, b := range rec.got() {
		if strings.Contains(b, `"trigger":"both"`) {
			out = append(out, b)
		}
	}
	return out
}

func TestConnectSharesStateBetweenPods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		nats     bool // Connect with the URL of a NATS, else with none
		restart  bool // the pod that took dep-a stops before dep-b arrives
		wantBoth []string
	}{
		{name: "state on NATS: a on one pod, b on another fires once", nats: true,
			wantBoth: []string{`{"trigger":"both","a":"a","b":"b"}`}},
		{name: "state on NATS: a pod restarts between a and b", nats: true, restart: true,
			wantBoth: []string{`{"trigger":"both","a":"a","b":"b"}`}},
		{name: "no NATS: each pod keeps its own state", nats: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{status: http.StatusOK}
			srv := httptest.NewServer(rec)
			t.Cleanup(srv.Close)
			url := ""
			if tc.nats {
				url = natsdtest.Run(t).ClientURL()
			}
			pod := func() *Function {
				fn, err := Connect(loadSensor(t, "conditions", srv.URL), NATS{URL: url}, sensor.Options{})
				if err != nil {
					t.Fatalf("Connect = %v", err)
				}
				t.Cleanup(func() { _ = fn.Close() })
				return fn
			}
			first, second := pod(), pod()
			ctx := context.Background()
			if _, err := first.Handle(ctx, webhookEvent(t, "1", "a", `{"v":"a"}`)); err != nil {
				t.Fatal(err)
			}
			if tc.restart {
				if err := first.Close(); err != nil {
					t.Fatalf("Close = %v", err)
				}
				second = pod()
			}
			for range 2 { // b, then its redelivery
				if _, err := second.Handle(ctx, webhookEvent(t, "2", "b", `{"v":"b"}`)); err != nil {
					t.Fatal(err)
				}
			}
			if got := bothBodies(rec); strings.Join(got, "\n") != strings.Join(tc.wantBoth, "\n") {
				t.Errorf("the && trigger fired with %q, want %q", got, tc.wantBoth)
			}
		})
	}
}

func TestConnectNATSNotReachable(t *testing.T) {
	t.Parallel()
	rec := &recorder{status: http.StatusOK}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	fn, err := Connect(loadSensor(t, "conditions", srv.URL), NATS{URL: "nats://127.0.0.1:1"}, sensor.Options{})
	if err != nil {
		t.Fatalf("Connect to a NATS not reachable yet = %v, want the function built", err)
	}
	t.Cleanup(func() { _ = fn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := fn.Handle(ctx, webhookEvent(t, "1", "a", `{"v":"a"}`)); !errors.Is(err, sensor.ErrTriggerFailed) {
		t.Errorf("Handle without NATS = %v, want ErrTriggerFailed so that the broker delivers the event again", err)
	}
}

func TestNATSFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    NATS
		wantErr string
	}{
		{name: "unset", env: map[string]string{}, want: NATS{}},
		{name: "every variable", env: map[string]string{NATSURLEnv: "nats://n:4222", NATSUserEnv: "u", NATSPasswordEnv: "p", StateReplicasEnv: "3"},
			want: NATS{URL: "nats://n:4222", User: "u", Password: "p", Replicas: 3}},
		{name: "replicas not a number", env: map[string]string{StateReplicasEnv: "three"}, wantErr: `FLINT_STATE_REPLICAS: "three"`},
		{name: "replicas zero", env: map[string]string{StateReplicasEnv: "0"}, wantErr: `FLINT_STATE_REPLICAS: "0"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := NATSFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("NATSFromEnv = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NATSFromEnv = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
