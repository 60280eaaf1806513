package sensor

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/sensor"
	_ "github.com/flintevents/flint/triggers/builtin"
)

// recorder is an HTTP trigger target that answers with status and records bodies.
type recorder struct {
	mu            sync.Mutex
	status        int
	fails         int // answer 500 to this many requests first (to /flaky only when failFlakyOnly)
	failFlakyOnly bool
	bodies        []string
	paths         []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, string(b))
	r.paths = append(r.paths, req.URL.Path)
	if r.fails > 0 && (!r.failFlakyOnly || req.URL.Path == "/flaky") {
		r.fails--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(r.status)
}

func (r *recorder) set(status int) { r.mu.Lock(); r.status = status; r.mu.Unlock() }

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// loadSensor reads testdata/<name>.yaml with TARGET replaced by url.
func loadSensor(t *testing.T, name, url string) *v1alpha1.Sensor {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s v1alpha1.Sensor
	if err := yaml.UnmarshalStrict([]byte(strings.ReplaceAll(string(raw), "TARGET", url)), &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func webhookEvent(t *testing.T, id, eventName, body string) cloudevents.Event {
	t.Helper()
	ce, err := event.New(id, "webhook", eventName, "webhook", time.Now(), []byte(`{"header":{},"body":`+body+`}`))
	if err != nil {
		t.Fatal(err)
	}
	return ce
}

func newFunction(t *testing.T, name string) (*Function, *recorder) {
	t.Helper()
	rec := &recorder{status: http.StatusOK}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	fn, err := New(loadSensor(t, name, srv.URL), sensor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fn.Close() })
	return fn, rec
}

func TestHandleFiresAfterFilters(t *testing.T) {
	t.Parallel()
	fn, rec := newFunction(t, "single")
	ctx := context.Background()

	if _, err := fn.Handle(ctx, webhookEvent(t, "1", "example", `{"message":"goodbye"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := fn.Handle(ctx, webhookEvent(t, "2", "other", `{"message":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	if got := rec.got(); len(got) != 0 {
		t.Fatalf("filtered or foreign events fired the trigger: %v", got)
	}
	if _, err := fn.Handle(ctx, webhookEvent(t, "3", "example", `{"message":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	if got := rec.got(); len(got) != 1 || got[0] != `{"msg":"hello"}` {
		t.Fatalf("target got %v, want one {\"msg\":\"hello\"}", got)
	}
}

func TestHandleFailureThenRedelivery(t *testing.T) {
	t.Parallel()
	fn, rec := newFunction(t, "single")
	ctx := context.Background()
	ev := webhookEvent(t, "42", "example", `{"message":"hello"}`)

	rec.set(http.StatusInternalServerError)
	if _, err := fn.Handle(ctx, ev); !errors.Is(err, sensor.ErrTriggerFailed) {
		t.Fatalf("Handle with a 500 target = %v, want ErrTriggerFailed (policy allows only 200)", err)
	}
	rec.set(http.StatusOK)
	if _, err := fn.Handle(ctx, ev); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	// A second redelivery of an event whose trigger succeeded does not fire again.
	if _, err := fn.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if got := rec.got(); len(got) != 2 {
		t.Fatalf("target called %d times, want 2 (one failure, one success): %v", len(got), got)
	}
}

func TestHandleConditions(t *testing.T) {
	t.Parallel()
	fn, rec := newFunction(t, "conditions")
	ctx := context.Background()
	send := func(id, name, body string) {
		t.Helper()
		if _, err := fn.Handle(ctx, webhookEvent(t, id, name, body)); err != nil {
			t.Fatal(err)
		}
	}
	// both: "dep-a && dep-b"; either: "dep-a || dep-b".
	send("1", "a", `{"v":"first-a"}`)
	if got := rec.got(); len(got) != 1 || got[0] != `{"trigger":"either","a":"first-a"}` {
		t.Fatalf("after dep-a: %v, want only the || trigger", got)
	}
	send("2", "a", `{"v":"second-a"}`)
	send("3", "b", `{"v":"b"}`)
	got := rec.got()
	if len(got) != 4 {
		t.Fatalf("after a, a, b: %d calls %v, want 4", len(got), got)
	}
	var both []string
	for _, g := range got {
		if strings.Contains(g, `"trigger":"both"`) {
			both = append(both, g)
		}
	}
	if len(both) != 1 || both[0] != `{"trigger":"both","a":"second-a","b":"b"}` {
		t.Fatalf("&& trigger fired with %v, want the latest a and b once", both)
	}
	// The && state was cleared: another b alone does not fire it.
	send("4", "b", `{"v":"b2"}`)
	for _, g := range rec.got()[4:] {
		if strings.Contains(g, `"trigger":"both"`) {
			t.Fatalf("&& trigger fired without a new dep-a: %s", g)
		}
	}
}

func TestNewRejectsUnsupportedTrigger(t *testing.T) {
	t.Parallel()
	s := loadSensor(t, "single", "http://127.0.0.1:1")
	s.Spec.Triggers[0].Template.HTTP = nil
	s.Spec.Triggers[0].Template.OpenWhisk = &v1alpha1.OpenWhiskTrigger{Host: "h", ActionName: "a"}
	_, err := New(s, sensor.Options{})
	if err == nil || !strings.Contains(err.Error(), "spec.triggers[0].template.openWhisk") {
		t.Fatalf("New = %v, want an error naming spec.triggers[0].template.openWhisk", err)
	}
}

func TestNotRunnable(t *testing.T) {
	t.Parallel()
	s := loadSensor(t, "single", "http://127.0.0.1:1")
	s.Spec.Triggers[0].Template.HTTP = nil
	s.Spec.Triggers[0].Template.OpenWhisk = &v1alpha1.OpenWhiskTrigger{Host: "h", ActionName: "a"}
	fn, err := New(s, sensor.Options{AllowNotRunnable: true})
	if err != nil {
		t.Fatalf("New with AllowNotRunnable = %v", err)
	}
	defer fn.Close()
	if got := fn.NotRunnable(); len(got) != 1 || got[0] != "spec.triggers[0].template.openWhisk" {
		t.Fatalf("NotRunnable = %v", got)
	}
}

func TestServeHTTP(t *testing.T) {
	t.Parallel()
	fn, rec := newFunction(t, "single")
	srv := httptest.NewServer(fn)
	t.Cleanup(srv.Close)

	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"not":"a cloudevent"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("non-CloudEvent POST = %d, want 400", resp.StatusCode)
	}

	send := func(id string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"header":{},"body":{"message":"hey"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Ce-Specversion", "1.0")
		req.Header.Set("Ce-Id", id)
		req.Header.Set("Ce-Source", "webhook")
		req.Header.Set("Ce-Subject", "example")
		req.Header.Set("Ce-Type", "webhook")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send("a"); code != http.StatusAccepted {
		t.Fatalf("binary CloudEvent = %d, want 202", code)
	}
	rec.set(http.StatusBadGateway)
	if code := send("b"); code != http.StatusInternalServerError {
		t.Fatalf("failing trigger = %d, want 500", code)
	}
	if got := rec.got(); len(got) != 2 || got[0] != `{"msg":"hey"}` {
		t.Fatalf("target got %v", got)
	}
}

func TestTriggerPolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("trigger parameters rewrite the template", func(t *testing.T) {
		t.Parallel()
		fn, rec := newFunction(t, "parameters")
		if _, err := fn.Handle(ctx, webhookEvent(t, "1", "example", `{"route":"orders"}`)); err != nil {
			t.Fatal(err)
		}
		if len(rec.paths) != 1 || rec.paths[0] != "/base/orders" {
			t.Fatalf("paths = %v, want [/base/orders]", rec.paths)
		}
	})
	t.Run("retryStrategy retries in process", func(t *testing.T) {
		t.Parallel()
		fn, rec := newFunction(t, "retry")
		rec.fails = 2
		if _, err := fn.Handle(ctx, webhookEvent(t, "1", "example", `{}`)); err != nil {
			t.Fatalf("Handle = %v, want success on the third attempt", err)
		}
		if n := len(rec.got()); n != 3 {
			t.Fatalf("attempts = %d, want 3", n)
		}
	})
	t.Run("retryStrategy exhausted fires the dlqTrigger", func(t *testing.T) {
		t.Parallel()
		fn, rec := newFunction(t, "retry")
		rec.fails, rec.failFlakyOnly = 100, true
		if _, err := fn.Handle(ctx, webhookEvent(t, "1", "example", `{}`)); err != nil {
			t.Fatalf("Handle = %v, want success through the dlqTrigger", err)
		}
		got := rec.got()
		if len(got) != 4 || got[3] != `{"dead":"1"}` {
			t.Fatalf("requests = %v, want 3 failed attempts then the dlq payload", got)
		}
	})
}
