package sensor

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

// A trigger answering an error status without a policy counts as fired, as in Argo,
// and says so at WARN with the status; one a policy allows, or a success, stays at INFO.
func TestErrorStatusWithoutPolicyWarns(t *testing.T) {
	t.Parallel()
	const manifest = `
apiVersion: argoproj.io/v1alpha1
kind: Sensor
metadata: {name: status}
spec:
  dependencies: [{name: dep, eventSourceName: webhook, eventName: example}]
  triggers:
    - template: {name: call, http: {url: TARGET, method: POST}}
POLICY`
	tests := []struct {
		name      string
		status    int
		policy    string
		wantLevel zapcore.Level
	}{
		{name: "500 without policy", status: http.StatusInternalServerError, wantLevel: zapcore.WarnLevel},
		{name: "404 with a policy without allow", status: http.StatusNotFound, policy: "      policy: {status: {}}", wantLevel: zapcore.WarnLevel},
		{name: "500 allowed by policy", status: http.StatusInternalServerError, policy: "      policy: {status: {allow: [500]}}", wantLevel: zapcore.InfoLevel},
		{name: "200 without policy", status: http.StatusOK, wantLevel: zapcore.InfoLevel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg, url := serve(t, tc.status)
			var s v1alpha1.Sensor
			doc := strings.NewReplacer("TARGET", url, "POLICY", tc.policy).Replace(manifest)
			if err := yaml.UnmarshalStrict([]byte(doc), &s); err != nil {
				t.Fatal(err)
			}
			core, logs := observer.New(zapcore.DebugLevel)
			eng, err := New(&s, Options{Deps: triggers.Deps{Logger: zap.New(core)}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = eng.Close() })
			if err := eng.Handle(context.Background(), webhookEvent("e1", `{}`, `{}`)); err != nil {
				t.Fatalf("Handle = %v, want success", err)
			}
			if n := len(tg.got()); n != 1 {
				t.Fatalf("target called %d times, want 1", n)
			}
			var found bool
			for _, e := range logs.FilterField(zap.String("trigger", "call")).All() {
				if e.Level < zapcore.InfoLevel || e.ContextMap()["status"] != int64(tc.status) {
					continue
				}
				found = true
				if e.Level != tc.wantLevel {
					t.Errorf("log line %q at %s, want %s", e.Message, e.Level, tc.wantLevel)
				}
			}
			if !found {
				t.Errorf("no log line of trigger call with status %d among %d lines", tc.status, logs.Len())
			}
		})
	}
}
