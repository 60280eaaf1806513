package dev_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/freeport"
	"github.com/flintevents/flint/sources/github/githubtest"
)

// TestDevManagesHooks: flint dev registers the GitHub hooks of its
// EventSources once it serves them, and on the way out deletes those whose
// entry sets deleteHookOnFinish, leaving the others.
func TestDevManagesHooks(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	gh := githubtest.NewServer(t, "/api/v3/", nil)
	raw, err := os.ReadFile("testdata/github-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	port := freeport.Port(t)
	text := strings.NewReplacer("$PORT", strconv.Itoa(port), "$GITHUB", gh.URL).Replace(string(raw))
	var es v1alpha1.EventSource
	if err := yaml.UnmarshalStrict([]byte(text), &es); err != nil {
		t.Fatal(err)
	}
	secrets := t.TempDir()
	if err := os.MkdirAll(filepath.Join(secrets, "github-access"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secrets, "github-access", "token"), []byte("ghp_dev"), 0o600); err != nil {
		t.Fatal(err)
	}

	r := start(t, dev.Objects{EventSources: []*v1alpha1.EventSource{&es}}, dev.Options{SecretsDir: secrets})
	const (
		pushHook    = `{"active":false,"config":{"insecure_ssl":"0","url":"https://dev.example.com/push"},"events":["push"],"id":%d,"name":"web"}`
		releaseHook = `{"active":false,"config":{"insecure_ssl":"0","url":"https://dev.example.com/release"},"events":["release"],"id":%d,"name":"web"}`
	)
	registered := `{"orgs/flintevents":[` + fmt.Sprintf(releaseHook, 102) + `],"repos/flintevents/flint":[` + fmt.Sprintf(pushHook, 101) + `]}`
	waitFor(t, func() bool { return gh.Hooks() == registered })

	r.stop(t)
	if got, want := gh.Hooks(), `{"orgs/flintevents":[`+fmt.Sprintf(releaseHook, 102)+`],"repos/flintevents/flint":[]}`; got != want {
		t.Errorf("hooks after the stop =\n%s\nwant\n%s", got, want)
	}
	want := []string{
		"GET /api/v3/repos/flintevents/flint/hooks", "POST /api/v3/repos/flintevents/flint/hooks",
		"GET /api/v3/orgs/flintevents/hooks", "POST /api/v3/orgs/flintevents/hooks",
		"GET /api/v3/repos/flintevents/flint/hooks", "DELETE /api/v3/repos/flintevents/flint/hooks/101",
	}
	if got := gh.Calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, a := range gh.Auth() {
		if a != "Bearer ghp_dev" {
			t.Errorf("Authorization = %q, want the API token", a)
		}
	}
}
