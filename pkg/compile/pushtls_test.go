package compile_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/pkg/manifest"
)

const tlsSecrets = `
      serverCertSecret: {name: tls, key: crt}
      serverKeySecret: {name: tls, key: key}`

func TestPushTLSIsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		// want is the error Cluster returns; "" when it compiles.
		want string
	}{
		{name: "webhook", yaml: `
apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: hooks}
spec:
  webhook:
    example:
      port: "12000"
      endpoint: /example
      method: POST` + tlsSecrets,
			want: compile.PushTLSReason + ": spec.webhook[example].serverCertSecret\nEventSource default/hooks"},
		{name: "only the entry with TLS", yaml: `
apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: hooks, namespace: team}
spec:
  webhook:
    plain: {port: "12000", endpoint: /plain, method: POST}
    secure:
      port: "12000"
      endpoint: /secure
      method: POST` + tlsSecrets,
			want: compile.PushTLSReason + ": spec.webhook[secure].serverCertSecret\nEventSource team/hooks"},
		{name: "github webhook", yaml: `
apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: gh}
spec:
  github:
    push:
      repositories: [{owner: argoproj, names: [argo-events]}]
      events: ["*"]
      apiToken: {name: github-access, key: token}
      webhook:
        endpoint: /push
        port: "12001"
        method: POST
        url: http://example.com
        serverCertSecret: {name: tls, key: crt}
        serverKeySecret: {name: tls, key: key}`,
			want: compile.PushTLSReason + ": spec.github[push].webhook.serverCertSecret\nEventSource default/gh"},
		{name: "TLS and two ports", yaml: `
apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: hooks}
spec:
  webhook:
    a:
      port: "12000"
      endpoint: /a
      method: POST` + tlsSecrets + `
    b: {port: "12001", endpoint: /b, method: POST}`,
			want: compile.PushTLSReason + ": spec.webhook[a].serverCertSecret\nEventSource default/hooks"},
		{name: "no TLS", yaml: `
apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata: {name: hooks}
spec:
  webhook:
    example: {port: "12000", endpoint: /example, method: POST}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// What flint validate and flint dev read: valid, no problem.
			set, problems, err := manifest.CheckReader(context.Background(), strings.NewReader(tc.yaml), "tls.yaml")
			if err != nil || len(problems) > 0 {
				t.Fatalf("CheckReader() = %v, %v; want it valid", problems, err)
			}
			g := mustCompile(t, compile.Input{EventSources: set.EventSources()})
			_, err = compile.Cluster(g, compile.ClusterOptions{})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Cluster() error = %v, want none", err)
				}
				return
			}
			var fe *apis.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Cluster() error = %v (%T), want a *apis.FieldError", err, err)
			}
			if got := fe.Error(); got != tc.want {
				t.Errorf("Cluster() error =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
