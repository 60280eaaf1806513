package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go/jetstream"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	duckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/pkg/apis"
	pkgduckv1 "knative.dev/pkg/apis/duck/v1"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/broker/deadletter"
	"github.com/flintevents/flint/pkg/natsd"
	"github.com/flintevents/flint/pkg/natsd/natsdtest"
)

// devBroker runs a data plane with broker default/b and trigger default/t feeding url,
// on an embedded JetStream stored in dir as flint dev stores it, until stop is called.
func devBroker(t *testing.T, dir, url string) (dp *broker.DataPlane, js jetstream.JetStream, stop func()) {
	t.Helper()
	srv := natsdtest.RunWith(t, natsd.Options{StoreDir: filepath.Join(dir, devStoreSubdir)})
	nc := natsdtest.ConnectTo(t, srv)
	retry := int32(1)
	delay := "PT0.01S"
	dp, err := broker.New(nc, broker.Config{DefaultDelivery: &duckv1.DeliverySpec{Retry: &retry, BackoffDelay: &delay}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := apis.ParseURL(url)
	b := &eventingv1.Broker{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "b"}}
	tr := &eventingv1.Trigger{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "t"},
		Spec: eventingv1.TriggerSpec{Broker: "b", Subscriber: pkgduckv1.Destination{URI: u}}}
	if err := dp.Apply(context.Background(), []*eventingv1.Broker{b}, []*eventingv1.Trigger{tr}); err != nil {
		t.Fatal(err)
	}
	if js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = dp.Run(ctx) })
	return dp, js, func() { cancel(); wg.Wait(); nc.Close(); srv.Shutdown() }
}

// TestDLQListAndReplayDataDir dead-letters an event in a flint dev store, lists it
// and replays it with the store stopped, then delivers it on the next run.
func TestDLQListAndReplayDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var up atomic.Bool
	var delivered sync.Map
	sub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		delivered.Store(r.Header.Get("Ce-Id"), true)
	}))
	t.Cleanup(sub.Close)

	dp, js, stop := devBroker(t, dir, sub.URL)
	ev := cloudevents.NewEvent()
	ev.SetID("lost-1")
	ev.SetSource("/test")
	ev.SetType("order")
	if err := dp.Publish(context.Background(), "default", "b", &ev); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if l, err := deadletter.List(context.Background(), js, deadletter.Filter{}); err == nil && len(l) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("event lost-1 not dead-lettered")
		}
	}
	stop()
	code, out, errOut := run(t, "", "dlq", "list", "--data-dir", dir, "-o", "json")
	if code != 0 {
		t.Fatalf("dlq list: exit %d: %s", code, errOut)
	}
	var letters []letterJSON
	if err := json.Unmarshal([]byte(out), &letters); err != nil {
		t.Fatalf("dlq list -o json: %v\n%s", err, out)
	}
	if len(letters) != 1 || letters[0].Trigger != "default/t" || letters[0].Code != 503 || letters[0].Attempts != 2 ||
		!strings.Contains(string(letters[0].Event), `"lost-1"`) {
		t.Fatalf("dlq list = %s, want event lost-1 of default/t, 503 after 2 attempts", out)
	}
	if code, out, _ := run(t, "", "dlq", "list", "--data-dir", dir, "--trigger", "default/other"); code != 0 || !strings.Contains(out, "no dead letters") {
		t.Fatalf("dlq list --trigger default/other: exit %d\n%s", code, out)
	}
	if code, out, errOut := run(t, "", "dlq", "replay", "--data-dir", dir, "--trigger", "t"); code != 0 || !strings.Contains(out, "replayed 1 dead letters") {
		t.Fatalf("dlq replay: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := run(t, "", "dlq", "list", "--data-dir", dir); code != 0 || !strings.Contains(out, "no dead letters") {
		t.Fatalf("dlq list after replay: exit %d\n%s", code, out)
	}

	up.Store(true)
	_, _, stop = devBroker(t, dir, sub.URL)
	defer stop()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, ok := delivered.Load("lost-1"); ok {
			return
		}
	}
	t.Fatal("replayed event lost-1 not delivered on the next run")
}

func TestDLQNeedsAStore(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"dlq", "list"},
		{"dlq", "list", "--nats", "nats://127.0.0.1:1", "--data-dir", "x"},
		{"dlq", "replay", "--data-dir", t.TempDir()},
		{"dlq", "list", "--data-dir", t.TempDir(), "-o", "yaml"},
	} {
		if code, _, errOut := run(t, "", args...); code == 0 || errOut == "" {
			t.Errorf("%v: exit %d, %q; want an error", args, code, errOut)
		}
	}
}
