package github_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/freeport"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/github"
	"github.com/flintevents/flint/sources/github/githubtest"
	"github.com/flintevents/flint/sources/host"
)

// managedHooks is testdata/managed-hooks.yaml for a source on port whose
// GitHub API is at base.
func managedHooks(t *testing.T, port int, base string) string {
	t.Helper()
	raw, err := os.ReadFile("testdata/managed-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("$PORT", strconv.Itoa(port), "$GITHUB", base).Replace(string(raw))
}

// secretsDir holds the github-access Secret as a mounted volume does.
func secretsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "github-access"), 0o755); err != nil {
		t.Fatal(err)
	}
	for key, v := range map[string]string{"token": "ghp_test", "secret": hookSecret} {
		if err := os.WriteFile(filepath.Join(dir, "github-access", key), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The hooks of testdata/managed-hooks.yaml as the stand-in keeps them once registered.
const (
	pushHook = `{"active":true,"config":{"content_type":"json","insecure_ssl":"0","secret":"It's a Secret to Everybody","url":"https://hooks.example.com/push"},"events":["push"],"id":%d,"name":"web"}`
	// releaseHook has no secret and is inactive: its entry sets neither.
	releaseHook = `{"active":false,"config":{"insecure_ssl":"0","url":"https://hooks.example.com/release"},"events":["release"],"id":%d,"name":"web"}`
)

// step is one run of the github image's main: "serve" serves until the
// source answers, then stops; any other step is the FLINT_HOOKS mode.
type step string

// TestMainHooks runs the github image's main against a stand-in of GitHub's
// hooks API: a pod that serves and stops never touches a hook, whatever
// deleteHookOnFinish says; FLINT_HOOKS=register creates the hooks once and
// updates them when run again; FLINT_HOOKS=unregister removes those whose
// entry sets deleteHookOnFinish.
func TestMainHooks(t *testing.T) {
	t.Parallel()
	const (
		repoHooks = "/api/v3/repos/flintevents/flint/hooks"
		orgHooks  = "/api/v3/orgs/flintevents/hooks"
	)
	other := map[string]any{"id": 8, "config": map[string]any{"url": "https://other.example.com/"}}
	tests := []struct {
		name      string
		existing  map[string][]map[string]any
		steps     []step
		wantCalls []string
		wantHooks string
		wantErr   string // of the last step
	}{
		{
			name: "a pod that serves and stops touches no hook",
			existing: map[string][]map[string]any{
				"repos/flintevents/flint": {{"id": 7, "config": map[string]any{"url": "https://hooks.example.com/push"}}, other},
				"orgs/flintevents":        {{"id": 9, "config": map[string]any{"url": "https://hooks.example.com/release"}}},
			},
			steps:     []step{"serve", "serve"},
			wantHooks: `{"orgs/flintevents":[{"config":{"url":"https://hooks.example.com/release"},"id":9}],"repos/flintevents/flint":[{"config":{"url":"https://hooks.example.com/push"},"id":7},{"config":{"url":"https://other.example.com/"},"id":8}]}`,
		},
		{
			name:  "register twice leaves one hook each; unregister removes the one of deleteHookOnFinish",
			steps: []step{host.HooksRegister, host.HooksRegister, host.HooksUnregister},
			wantCalls: []string{
				"GET " + repoHooks, "POST " + repoHooks, "GET " + orgHooks, "POST " + orgHooks,
				"GET " + repoHooks, "PATCH " + repoHooks + "/101", "GET " + orgHooks, "PATCH " + orgHooks + "/102",
				"GET " + repoHooks, "DELETE " + repoHooks + "/101",
			},
			wantHooks: `{"orgs/flintevents":[` + fmt.Sprintf(releaseHook, 102) + `],"repos/flintevents/flint":[]}`,
		},
		{
			name: "register updates the hook already delivering to the URL and leaves the others",
			existing: map[string][]map[string]any{
				"repos/flintevents/flint": {{"id": 7, "name": "web", "active": false, "events": []string{"issues"}, "config": map[string]any{"url": "https://hooks.example.com/push"}}, other},
			},
			steps:     []step{host.HooksRegister},
			wantCalls: []string{"GET " + repoHooks, "PATCH " + repoHooks + "/7", "GET " + orgHooks, "POST " + orgHooks},
			wantHooks: `{"orgs/flintevents":[` + fmt.Sprintf(releaseHook, 101) + `],"repos/flintevents/flint":[` + fmt.Sprintf(pushHook, 7) + `,{"config":{"url":"https://other.example.com/"},"id":8}]}`,
		},
		{
			name:    "an unknown mode is refused",
			steps:   []step{"remove"},
			wantErr: `FLINT_HOOKS="remove": want "register" or "unregister"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gh := githubtest.NewServer(t, "/api/v3/", tc.existing)
			port := freeport.Port(t)
			env := map[string]string{
				"EVENTSOURCE_OBJECT": managedHooks(t, port, gh.URL),
				"FLINT_SECRETS_DIR":  secretsDir(t),
				"K_SINK":             "http://127.0.0.1:1/default/default",
				"LOG_LEVEL":          "error",
			}
			var err error
			for _, s := range tc.steps {
				if s == "serve" {
					serve(t, env, port)
					continue
				}
				env["FLINT_HOOKS"] = string(s)
				err = host.Main(context.Background(), github.Type, nil, func(k string) string { return env[k] })
				if err != nil && tc.wantErr == "" {
					t.Fatalf("FLINT_HOOKS=%s: %v", s, err)
				}
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Main = %v, want an error containing %q", err, tc.wantErr)
				}
			}
			if got := gh.Calls(); strings.Join(got, "\n") != strings.Join(tc.wantCalls, "\n") {
				t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.wantCalls, "\n"))
			}
			for _, a := range gh.Auth() {
				if a != "Bearer ghp_test" {
					t.Errorf("Authorization = %q, want the API token", a)
				}
			}
			if tc.wantHooks != "" {
				if got := gh.Hooks(); got != tc.wantHooks {
					t.Errorf("hooks =\n%s\nwant\n%s", got, tc.wantHooks)
				}
			}
		})
	}
}

// serve runs the image's main as a pod does until its port answers, then
// stops it as Knative does when it scales the Service down.
func serve(t *testing.T, env map[string]string, port int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- host.Main(ctx, github.Type, nil, func(k string) string { return env[k] }) }()
	url := fmt.Sprintf("http://127.0.0.1:%d/health", port)
	checkFor(t, 10*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("Main returned before serving: %v", err)
		default:
		}
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /health = %d", resp.StatusCode)
		}
		return nil
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Main did not return within 10s of the stop")
	}
}

// TestRegisterFailure: a registration GitHub refuses is Main's error, so the
// Job that runs it fails and is retried, and every target is still tried.
func TestRegisterFailure(t *testing.T) {
	t.Parallel()
	gh := githubtest.NewServer(t, "/enterprise/api/v3/", nil) // the YAML's paths are not served: 404
	env := map[string]string{
		"EVENTSOURCE_OBJECT": managedHooks(t, freeport.Port(t), gh.URL),
		"FLINT_SECRETS_DIR":  secretsDir(t),
		"FLINT_HOOKS":        host.HooksRegister,
		"LOG_LEVEL":          "error",
	}
	err := host.Main(context.Background(), github.Type, nil, func(k string) string { return env[k] })
	for _, want := range []string{
		"spec.github[push]: registering the hook of repos/flintevents/flint: listing hooks: GET repos/flintevents/flint/hooks?per_page=100: GitHub answered 404",
		"spec.github[release]: registering the hook of orgs/flintevents: listing hooks:",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Main = %v, want an error containing %q", err, want)
		}
	}
}

// TestRegisterRefusesEmptySecret: a webhookSecret that resolves to nothing is
// refused, naming the field, rather than registering a hook whose deliveries
// carry no signature.
func TestRegisterRefusesEmptySecret(t *testing.T) {
	t.Parallel()
	gh := githubtest.NewServer(t, "/api/v3/", nil)
	dir := secretsDir(t)
	if err := os.WriteFile(filepath.Join(dir, "github-access", "secret"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"EVENTSOURCE_OBJECT": managedHooks(t, freeport.Port(t), gh.URL),
		"FLINT_SECRETS_DIR":  dir,
		"FLINT_HOOKS":        host.HooksRegister,
		"LOG_LEVEL":          "error",
	}
	err := host.Main(context.Background(), github.Type, nil, func(k string) string { return env[k] })
	const want = "spec.github[push].webhookSecret: the secret is empty"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Main = %v, want an error containing %q", err, want)
	}
	if strings.Contains(gh.Hooks(), "hooks.example.com/push") {
		t.Errorf("a hook without a secret was registered: %s", gh.Hooks())
	}
}

// TestWantsHooks is what `flint compile` reads to write the hook Jobs.
func TestWantsHooks(t *testing.T) {
	t.Parallel()
	managed := v1alpha1.GithubEventSource{
		Webhook:  &v1alpha1.WebhookContext{Endpoint: "/push", Port: "12000", URL: "https://hooks.example.com"},
		APIToken: ref("github-access", "token"),
	}
	removed := managed
	removed.DeleteHookOnFinish = true
	noURL := managed
	noURL.Webhook = &v1alpha1.WebhookContext{Endpoint: "/push", Port: "12000"}
	noToken := managed
	noToken.APIToken = nil
	tests := []struct {
		name                 string
		entries              map[string]v1alpha1.GithubEventSource
		register, removeHook bool
	}{
		{name: "token and URL", entries: map[string]v1alpha1.GithubEventSource{"a": managed}, register: true},
		{name: "one entry deletes its hook on finish", entries: map[string]v1alpha1.GithubEventSource{"a": managed, "b": removed}, register: true, removeHook: true},
		{name: "no webhook.url", entries: map[string]v1alpha1.GithubEventSource{"a": noURL}},
		{name: "no apiToken", entries: map[string]v1alpha1.GithubEventSource{"a": noToken}},
	}
	typ, _ := sources.Lookup(github.Type)
	m := typ.Hooks
	if m == nil {
		t.Fatal("github registers no hook manager")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			es := &v1alpha1.EventSource{Spec: v1alpha1.EventSourceSpec{Github: tc.entries}}
			if reg, rm := m.Wants(es); reg != tc.register || rm != tc.removeHook {
				t.Errorf("Wants = %v, %v; want %v, %v", reg, rm, tc.register, tc.removeHook)
			}
		})
	}
}

// TestNewHooksProblems: what NewHooks refuses, at the field.
func TestNewHooksProblems(t *testing.T) {
	t.Parallel()
	g := v1alpha1.GithubEventSource{
		Webhook:       &v1alpha1.WebhookContext{Endpoint: "/push", Port: "12000", URL: "https://hooks.example.com"},
		Organizations: []string{"flintevents"},
		Events:        []string{"push"},
		APIToken:      ref("github-access", "token"),
		GithubBaseURL: "ftp://github.example.com",
	}
	_, err := github.NewHooks(eventSource(g), sources.Deps{})
	var fe *apis.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("NewHooks = %v (%T), want a *apis.FieldError", err, err)
	}
	want := "invalid value: ftp://github.example.com: spec.github[push].githubBaseURL\nmust be an absolute http or https URL\n" +
		"names a secret but no secret resolver was given: spec.github[push].apiToken"
	if got := fe.Error(); got != want {
		t.Errorf("NewHooks =\n%s\nwant\n%s", got, want)
	}
}
