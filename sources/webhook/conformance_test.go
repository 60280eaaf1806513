package webhook_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/sourcetest"
	"github.com/flintevents/flint/sources/webhook"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	typ, _ := sources.Lookup(webhook.Type)
	factory := typ.Factory
	sourcetest.Run(t, sourcetest.Case{
		Factory: factory,
		Valid:   "testdata/valid.yaml",
		Invalid: map[string]string{
			"testdata/invalid-filter.yaml":       "spec.webhook[example].filter.expression",
			"testdata/invalid-shared-route.yaml": "spec.webhook[b].endpoint",
		},
		Trigger: func(t *testing.T, r *sourcetest.Running) {
			got := do(t, client(t), "POST", r.URL("0", "/example"), http.Header{"Content-Type": {"application/json"}}, strings.NewReader(`{"a": 1}`))
			if got.status != 200 || got.body != "success" {
				t.Fatalf("got %d %q, want 200 success", got.status, got.body)
			}
		},
		Check: func(t *testing.T, ev sources.Event) {
			if ev.Name != "example" {
				t.Errorf("name = %q, want example", ev.Name)
			}
			const want = `"body":{"a":1},"metadata":{"team":"infra"}}`
			if !strings.HasSuffix(string(ev.Data), want) || !strings.HasPrefix(string(ev.Data), `{"header":{`) {
				t.Errorf("data = %s, want a header and ending %s", ev.Data, want)
			}
		},
		Reject: func(t *testing.T, r *sourcetest.Running) {
			got := do(t, client(t), "GET", r.URL("0", "/example"), nil, nil)
			if got.status != http.StatusMethodNotAllowed {
				t.Fatalf("GET answered %d %q, want 405", got.status, got.body)
			}
		},
	})
}
