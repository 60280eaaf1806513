package host_test

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/github"
	"github.com/flintevents/flint/sources/github/githubtest"
	"github.com/flintevents/flint/sources/host"
)

// TestMainHooksOfATypeWithout: FLINT_HOOKS on a type that manages no hooks
// is refused, naming the type, before anything is served.
func TestMainHooksOfATypeWithout(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"EVENTSOURCE_OBJECT": "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\nmetadata: {name: hooks}\n" +
			"spec:\n  webhook:\n    example: {port: \"12000\", endpoint: /example, method: POST}\n",
		"FLINT_HOOKS": "register",
		"LOG_LEVEL":   "error",
	}
	err := host.Main(context.Background(), "webhook", nil, func(k string) string { return env[k] })
	if want := `FLINT_HOOKS=register: source type "webhook" manages no hooks`; err == nil || err.Error() != want {
		t.Fatalf("Main = %v, want %q", err, want)
	}
}

// TestDevHooksStoppedBeforeReady: flint dev stopped before its receiver
// served registers nothing and so removes nothing, even with
// deleteHookOnFinish.
func TestDevHooksStoppedBeforeReady(t *testing.T) {
	t.Parallel()
	gh := githubtest.NewServer(t, "/api/v3/", map[string][]map[string]any{
		"orgs/flintevents": {{"id": 7, "config": map[string]any{"url": "https://hooks.example.com/push"}}},
	})
	es := &v1alpha1.EventSource{Spec: v1alpha1.EventSourceSpec{Github: map[string]v1alpha1.GithubEventSource{"push": {
		Webhook:            &v1alpha1.WebhookContext{Endpoint: "/push", Port: "12000", URL: "https://hooks.example.com"},
		Organizations:      []string{"flintevents"},
		Events:             []string{"push"},
		APIToken:           &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "github-access"}, Key: "token"},
		GithubBaseURL:      gh.URL,
		DeleteHookOnFinish: true,
	}}}}
	deps := sources.Deps{Secrets: secret.Local{Getenv: func(string) (string, bool) { return "ghp_test", true }}}
	h, err := host.NewHooks(github.Type, es, deps)
	if err != nil || h == nil {
		t.Fatalf("NewHooks = %v, %v", h, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := host.DevHooks(h, make(chan struct{}), zap.NewNop())(ctx); err != nil {
		t.Fatal(err)
	}
	if calls := gh.Calls(); len(calls) != 0 {
		t.Errorf("calls = %s, want none", strings.Join(calls, ", "))
	}
}
