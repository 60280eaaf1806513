package resource_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/tidwall/gjson"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/kube"
	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/resource"
	"github.com/flintevents/flint/sources/sourcetest"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

// eventSource is an EventSource named es with the given resource entries.
func eventSource(entries map[string]v1alpha1.ResourceEventSource) *v1alpha1.EventSource {
	es := &v1alpha1.EventSource{}
	es.Name = "es"
	es.Spec.Resource = entries
	return es
}

// configMaps is the entry of the configmaps of ns.
func configMaps(ns string, types ...v1alpha1.ResourceEventType) v1alpha1.ResourceEventSource {
	return v1alpha1.ResourceEventSource{
		Namespace:            ns,
		GroupVersionResource: metav1.GroupVersionResource{Version: "v1", Resource: "configmaps"},
		EventTypes:           types,
	}
}

// unreachable are clients of an API server that is never dialled.
func unreachable(t *testing.T) *kube.Clients {
	t.Helper()
	c, err := kube.New(&rest.Config{Host: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	pods := func(f *v1alpha1.ResourceFilter, types ...v1alpha1.ResourceEventType) v1alpha1.ResourceEventSource {
		return v1alpha1.ResourceEventSource{
			GroupVersionResource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			EventTypes:           types,
			Filter:               f,
		}
	}
	label := func(key, op, value string) *v1alpha1.ResourceFilter {
		return &v1alpha1.ResourceFilter{Labels: []v1alpha1.Selector{{Key: key, Operation: op, Value: value}}}
	}
	field := func(key, op, value string) *v1alpha1.ResourceFilter {
		return &v1alpha1.ResourceFilter{Fields: []v1alpha1.Selector{{Key: key, Operation: op, Value: value}}}
	}
	tests := []struct {
		name      string
		noCluster bool
		entry     v1alpha1.ResourceEventSource
		wantPath  string
		wantText  string
	}{
		{name: "no cluster", noCluster: true, entry: pods(nil, v1alpha1.ADD), wantPath: "spec.resource", wantText: "needs a Kubernetes cluster: run flint dev with --kubeconfig"},
		{name: "unknown event type", entry: pods(nil, v1alpha1.ADD, "CREATE"), wantPath: "spec.resource[a].eventTypes[1]", wantText: "CREATE"},
		{name: "no event types", entry: pods(nil), wantPath: "spec.resource[a].eventTypes"},
		{name: "no resource", entry: v1alpha1.ResourceEventSource{GroupVersionResource: metav1.GroupVersionResource{Version: "v1"}, EventTypes: []v1alpha1.ResourceEventType{v1alpha1.ADD}}, wantPath: "spec.resource[a].resource"},
		{name: "gt needs an integer", entry: pods(label("replicas", "gt", "many"), v1alpha1.ADD), wantPath: "spec.resource[a].filter.labels[0]", wantText: "replicas gt many"},
		{name: "exists takes no value", entry: pods(label("app", "exists", "x"), v1alpha1.ADD), wantPath: "spec.resource[a].filter.labels[0]"},
		{name: "bad label key", entry: pods(label("not a key", "==", "x"), v1alpha1.ADD), wantPath: "spec.resource[a].filter.labels[0]"},
		{name: "unknown label operation", entry: pods(label("app", "~", "x"), v1alpha1.ADD), wantPath: "spec.resource[a].filter.labels[0]"},
		{name: "field pattern that does not compile", entry: pods(field("metadata.name", "==", "my-(pod"), v1alpha1.ADD), wantPath: "spec.resource[a].filter.fields[0].value"},
		{name: "unknown field operation", entry: pods(field("metadata.name", "in", "x"), v1alpha1.ADD), wantPath: "spec.resource[a].filter.fields[0].operation"},
		{name: "field without key", entry: pods(field("", "==", "x"), v1alpha1.ADD), wantPath: "spec.resource[a].filter.fields[0].key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var clients *kube.Clients
			if !tc.noCluster {
				clients = unreachable(t)
			}
			_, err := resource.New(eventSource(map[string]v1alpha1.ResourceEventSource{"a": tc.entry}), sources.Deps{}, clients)
			var fe *apis.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("New = %v (%T), want a *apis.FieldError", err, err)
			}
			var paths []string
			for _, e := range fe.WrappedErrors() {
				paths = append(paths, e.Paths...)
			}
			if !slices.Contains(paths, tc.wantPath) {
				t.Errorf("error %q names %v, want %s", fe.Error(), paths, tc.wantPath)
			}
			if !strings.Contains(fe.Error(), tc.wantText) {
				t.Errorf("error %q does not say %q", fe.Error(), tc.wantText)
			}
		})
	}
}

func TestRunRefusesMisuse(t *testing.T) {
	t.Parallel()
	src, err := resource.New(eventSource(map[string]v1alpha1.ResourceEventSource{"a": configMaps("x", v1alpha1.ADD)}), sources.Deps{}, unreachable(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Run(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "emitter is nil") {
		t.Errorf("Run without an emitter = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := &sourcetest.Recorder{}
	if err := src.Run(ctx, rec.Emit); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if err := src.Run(ctx, rec.Emit); err == nil || !strings.Contains(err.Error(), "already started") {
		t.Errorf("second Run = %v", err)
	}
}

func zapLogger(t *testing.T) *zap.Logger { return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)) }

// running is a resource source running until the test ends.
type running struct {
	src    *resource.Source
	cancel context.CancelFunc
	done   chan error
}

// start builds es on env's cluster, runs it with emit and waits until its
// informers have listed (and the initial list was emitted).
func start(t *testing.T, env *kubetest.Env, es *v1alpha1.EventSource, emit sources.Emitter) *running {
	t.Helper()
	return startWith(t, env, es, emit, sources.Deps{})
}

// startWith is start with deps (its Logger set to the test's).
func startWith(t *testing.T, env *kubetest.Env, es *v1alpha1.EventSource, emit sources.Emitter, deps sources.Deps) *running {
	t.Helper()
	deps.Logger = zapLogger(t)
	src, err := resource.New(es, deps, env.Clients)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{src: src, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- src.Run(ctx, emit) }()
	t.Cleanup(func() {
		if err := r.stop(10 * time.Second); err != nil {
			t.Errorf("stopping: %v", err)
		}
	})
	select {
	case <-src.Ready():
	case err := <-r.done:
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("informers not synced after 30s")
	}
	return r
}

// stop cancels the source and waits up to within for Run to return.
func (r *running) stop(within time.Duration) error {
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(within):
		return fmt.Errorf("Run did not return %s after cancel", within)
	}
}

// collect waits until rec holds n events in all and returns them.
func collect(t *testing.T, rec *sourcetest.Recorder, n int) []sources.Event {
	t.Helper()
	var got []sources.Event
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < n {
		got = append(got, rec.Take()...)
		if time.Now().After(deadline) {
			t.Fatalf("got %d events after 20s, want %d: %s", len(got), n, describe(got))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return got
}

// describe lists events as TYPE namespace/name.
func describe(evs []sources.Event) string {
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		out = append(out, fmt.Sprintf("%s %s/%s", gjson.GetBytes(ev.Data, "type"), gjson.GetBytes(ev.Data, "body.metadata.namespace"), gjson.GetBytes(ev.Data, "body.metadata.name")))
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// objectNames are the sorted body.metadata.name of evs.
func objectNames(evs []sources.Event) []string {
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		out = append(out, gjson.GetBytes(ev.Data, "body.metadata.name").String())
	}
	sort.Strings(out)
	return out
}

func createConfigMap(t *testing.T, env *kubetest.Env, ns, name string, labels, data map[string]string) *corev1.ConfigMap {
	t.Helper()
	cm, err := env.Clients.Core.ConfigMaps(ns).Create(t.Context(),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Data: data}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating configmap %s: %v", name, err)
	}
	return cm
}

func createPod(t *testing.T, env *kubetest.Env, ns, name string, labels map[string]string) {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "busybox"}}},
	}
	if _, err := env.Clients.Core.Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating pod %s: %v", name, err)
	}
}

// TestPodCreated is the classic flow: a Pod labelled app=my-pod is created and
// the source emits one ADD event whose body is the Pod.
func TestPodCreated(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	ns := env.Namespace(t)
	entry := v1alpha1.ResourceEventSource{
		Namespace:            ns,
		GroupVersionResource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		EventTypes:           []v1alpha1.ResourceEventType{v1alpha1.ADD},
		Filter:               &v1alpha1.ResourceFilter{Labels: []v1alpha1.Selector{{Key: "app", Operation: "==", Value: "my-pod"}}},
		Metadata:             map[string]string{"team": "infra"},
	}
	rec := &sourcetest.Recorder{}
	start(t, env, eventSource(map[string]v1alpha1.ResourceEventSource{"example": entry}), rec.Emit)

	// The Pod the selector excludes is created first: had it passed, the
	// watch would have delivered it before my-pod.
	createPod(t, env, ns, "other-pod", map[string]string{"app": "other"})
	createPod(t, env, ns, "my-pod", map[string]string{"app": "my-pod"})
	evs := collect(t, rec, 1)
	if len(evs) != 1 {
		t.Fatalf("events %s, want one", describe(evs))
	}
	ev := evs[0]
	if ev.Name != "example" || ev.ID != "" || ev.Extensions != nil {
		t.Errorf("event name %q id %q extensions %v, want example and the host's id", ev.Name, ev.ID, ev.Extensions)
	}
	const prefix = `{"type":"ADD","body":{`
	const suffix = `,"oldBody":null,"group":"","version":"v1","resource":"pods","metadata":{"team":"infra"}}`
	if !strings.HasPrefix(string(ev.Data), prefix) || !strings.HasSuffix(string(ev.Data), suffix) {
		t.Errorf("data %s, want %s…%s", ev.Data, prefix, suffix)
	}
	for path, want := range map[string]string{
		"body.metadata.name":           "my-pod",
		"body.metadata.namespace":      ns,
		"body.metadata.labels.app":     "my-pod",
		"body.kind":                    "Pod",
		"body.apiVersion":              "v1",
		"body.spec.containers.0.image": "busybox",
	} {
		if got := gjson.GetBytes(ev.Data, path).String(); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
}

// TestEventTypes runs one ConfigMap through create, update and delete and
// checks the events each eventTypes list yields, in order.
func TestEventTypes(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	all := []v1alpha1.ResourceEventType{v1alpha1.ADD, v1alpha1.UPDATE, v1alpha1.DELETE}
	tests := []struct {
		name  string
		types []v1alpha1.ResourceEventType
		want  []string
	}{
		{name: "all", types: all, want: []string{"ADD", "UPDATE", "DELETE"}},
		{name: "update only", types: []v1alpha1.ResourceEventType{v1alpha1.UPDATE}, want: []string{"UPDATE"}},
		{name: "delete only", types: []v1alpha1.ResourceEventType{v1alpha1.DELETE}, want: []string{"DELETE"}},
		{name: "add and delete", types: []v1alpha1.ResourceEventType{v1alpha1.DELETE, v1alpha1.ADD}, want: []string{"ADD", "DELETE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := env.Namespace(t)
			rec := &sourcetest.Recorder{}
			start(t, env, eventSource(map[string]v1alpha1.ResourceEventSource{"cfg": configMaps(ns, tc.types...)}), rec.Emit)

			cms := env.Clients.Core.ConfigMaps(ns)
			cm := createConfigMap(t, env, ns, "settings", nil, map[string]string{"level": "1"})
			cm.Data["level"] = "2"
			if _, err := cms.Update(t.Context(), cm, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := cms.Delete(t.Context(), "settings", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			evs := collect(t, rec, len(tc.want))
			var types []string
			for _, ev := range evs {
				types = append(types, gjson.GetBytes(ev.Data, "type").String())
				if name := gjson.GetBytes(ev.Data, "body.metadata.name").String(); name != "settings" {
					t.Errorf("%s event of %q", gjson.GetBytes(ev.Data, "type"), name)
				}
			}
			if !slices.Equal(types, tc.want) {
				t.Fatalf("event types %v, want %v", types, tc.want)
			}
			for _, ev := range evs {
				body, old := gjson.GetBytes(ev.Data, "body.data.level").String(), gjson.GetBytes(ev.Data, "oldBody")
				switch typ := gjson.GetBytes(ev.Data, "type").String(); typ {
				case "UPDATE":
					if body != "2" || old.Get("data.level").String() != "1" {
						t.Errorf("UPDATE body level %q oldBody %s, want 2 and level 1", body, old.Raw)
					}
				default:
					if old.Type != gjson.Null || !old.Exists() {
						t.Errorf("%s oldBody %s, want null", typ, old.Raw)
					}
				}
			}
		})
	}
}

// TestFilters starts sources with one filter each over ConfigMaps that exist
// before the start; every event of the initial list is in once Ready is.
func TestFilters(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	ns := env.Namespace(t)
	createConfigMap(t, env, ns, "keep-a", map[string]string{"app": "my-pod", "tier": "1"}, map[string]string{"mode": "yes"})
	createConfigMap(t, env, ns, "drop-b", map[string]string{"app": "other", "tier": "5"}, map[string]string{"mode": "no"})
	createConfigMap(t, env, ns, "keep-c", nil, nil)
	hourAgo, inAnHour := metav1.NewTime(time.Now().Add(-time.Hour)), metav1.NewTime(time.Now().Add(time.Hour))
	labels := func(key, op, value string) *v1alpha1.ResourceFilter {
		return &v1alpha1.ResourceFilter{Labels: []v1alpha1.Selector{{Key: key, Operation: op, Value: value}}}
	}
	fields := func(key, op, value string) *v1alpha1.ResourceFilter {
		return &v1alpha1.ResourceFilter{Fields: []v1alpha1.Selector{{Key: key, Operation: op, Value: value}}}
	}
	tests := []struct {
		name   string
		filter *v1alpha1.ResourceFilter
		want   []string
	}{
		{name: "none", want: []string{"drop-b", "keep-a", "keep-c"}},
		{name: "label ==", filter: labels("app", "==", "my-pod"), want: []string{"keep-a"}},
		{name: "label =", filter: labels("app", "=", "my-pod"), want: []string{"keep-a"}},
		{name: "label without operation", filter: labels("app", "", "my-pod"), want: []string{"keep-a"}},
		{name: "label !=", filter: labels("app", "!=", "my-pod"), want: []string{"drop-b", "keep-c"}},
		{name: "label in", filter: labels("app", "in", "my-pod,other"), want: []string{"drop-b", "keep-a"}},
		{name: "label notin", filter: labels("app", "notin", "my-pod"), want: []string{"drop-b", "keep-c"}},
		{name: "label exists", filter: labels("app", "exists", ""), want: []string{"drop-b", "keep-a"}},
		{name: "label !", filter: labels("app", "!", ""), want: []string{"keep-c"}},
		{name: "label gt", filter: labels("tier", "gt", "2"), want: []string{"drop-b"}},
		{name: "label lt", filter: labels("tier", "lt", "2"), want: []string{"keep-a"}},
		{name: "two labels", filter: &v1alpha1.ResourceFilter{Labels: []v1alpha1.Selector{{Key: "app", Operation: "exists"}, {Key: "tier", Operation: "lt", Value: "9"}}}, want: []string{"drop-b", "keep-a"}},
		{name: "prefix", filter: &v1alpha1.ResourceFilter{Prefix: "keep-"}, want: []string{"keep-a", "keep-c"}},
		{name: "field ==", filter: fields("metadata.name", "==", "^keep-"), want: []string{"keep-a", "keep-c"}},
		{name: "field without operation", filter: fields("metadata.name", "", "-c$"), want: []string{"keep-c"}},
		{name: "field !=", filter: fields("metadata.name", "!=", "^keep-"), want: []string{"drop-b"}},
		{name: "field in the data", filter: fields("data.mode", "=", "^yes$"), want: []string{"keep-a"}},
		{name: "field missing", filter: fields("data.absent", "!=", "x"), want: nil},
		{name: "created by a time after the objects", filter: &v1alpha1.ResourceFilter{CreatedBy: inAnHour}, want: []string{"drop-b", "keep-a", "keep-c"}},
		{name: "created by a time before the objects", filter: &v1alpha1.ResourceFilter{CreatedBy: hourAgo}, want: nil},
		{name: "after start", filter: &v1alpha1.ResourceFilter{AfterStart: true}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			entry := configMaps(ns, v1alpha1.ADD)
			entry.Filter = tc.filter
			rec := &sourcetest.Recorder{}
			reg := metrics.New()
			startWith(t, env, eventSource(map[string]v1alpha1.ResourceEventSource{"cfg": entry}), rec.Emit, sources.Deps{Metrics: reg.Source})
			if got := objectNames(rec.Take()); !slices.Equal(got, tc.want) {
				t.Errorf("events for %v, want %v", got, tc.want)
			}
			// Labels select on the API server; the rest drop what the watch brought, counted.
			drops := 0.0
			if f := tc.filter; f != nil && (f.Prefix != "" || f.Fields != nil || !f.CreatedBy.IsZero() || f.AfterStart) {
				drops = float64(3 - len(tc.want))
			}
			deadline := time.Now().Add(10 * time.Second)
			for sourcetest.Filtered(t, reg) != drops && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if n := sourcetest.Filtered(t, reg); n != drops {
				t.Errorf("flint_eventsource_events_filtered_total = %v, want %v", n, drops)
			}
		})
	}
}

// TestAfterStart checks that afterStart skips what existed at the start and
// keeps what is created after it; without it the existing objects are ADDs.
func TestAfterStart(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	tests := []struct {
		afterStart bool
		want       []string
	}{
		{afterStart: true, want: []string{"new"}},
		{afterStart: false, want: []string{"old", "new"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("afterStart=%t", tc.afterStart), func(t *testing.T) {
			t.Parallel()
			ns := env.Namespace(t)
			createConfigMap(t, env, ns, "old", nil, nil)
			entry := configMaps(ns, v1alpha1.ADD)
			entry.Filter = &v1alpha1.ResourceFilter{AfterStart: tc.afterStart}
			rec := &sourcetest.Recorder{}
			start(t, env, eventSource(map[string]v1alpha1.ResourceEventSource{"cfg": entry}), rec.Emit)
			createConfigMap(t, env, ns, "new", nil, nil)
			evs := collect(t, rec, len(tc.want))
			var got []string
			for _, ev := range evs {
				got = append(got, gjson.GetBytes(ev.Data, "body.metadata.name").String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("events for %v, want %v", got, tc.want)
			}
		})
	}
}

// TestAllNamespaces watches every namespace when namespace is empty.
func TestAllNamespaces(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	a, b := env.Namespace(t), env.Namespace(t)
	run := map[string]string{"run": a} // unique to this test across namespaces
	entry := configMaps("", v1alpha1.ADD)
	entry.Filter = &v1alpha1.ResourceFilter{Labels: []v1alpha1.Selector{{Key: "run", Value: a}}}
	rec := &sourcetest.Recorder{}
	start(t, env, eventSource(map[string]v1alpha1.ResourceEventSource{"cfg": entry}), rec.Emit)
	createConfigMap(t, env, a, "in-a", run, nil)
	createConfigMap(t, env, b, "in-b", run, nil)
	evs := collect(t, rec, 2)
	var got []string
	for _, ev := range evs {
		got = append(got, gjson.GetBytes(ev.Data, "body.metadata.namespace").String()+"/"+gjson.GetBytes(ev.Data, "body.metadata.name").String())
	}
	want := []string{a + "/in-a", b + "/in-b"}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("events for %v, want %v", got, want)
	}
}

// TestCustomResource watches objects of a CRD.
func TestCustomResource(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	env.InstallCRDs(t, "testdata/widget-crd.yaml")
	gvr := schema.GroupVersionResource{Group: "flint.test", Version: "v1", Resource: "widgets"}
	ns := env.Namespace(t)
	entry := v1alpha1.ResourceEventSource{
		Namespace:            ns,
		GroupVersionResource: metav1.GroupVersionResource{Group: gvr.Group, Version: gvr.Version, Resource: gvr.Resource},
		EventTypes:           []v1alpha1.ResourceEventType{v1alpha1.ADD},
	}
	rec := &sourcetest.Recorder{}
	start(t, env, eventSource(map[string]v1alpha1.ResourceEventSource{"widgets": entry}), rec.Emit)
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "flint.test/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "gear"},
		"spec":     map[string]any{"size": int64(3)},
	}}
	if _, err := env.Clients.Dynamic.Resource(gvr).Namespace(ns).Create(t.Context(), w, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := collect(t, rec, 1)[0]
	for path, want := range map[string]string{
		"type": "ADD", "group": "flint.test", "version": "v1", "resource": "widgets",
		"body.kind": "Widget", "body.metadata.name": "gear", "body.spec.size": "3",
	} {
		if got := gjson.GetBytes(ev.Data, path).String(); got != want {
			t.Errorf("%s = %q, want %q in %s", path, got, want, ev.Data)
		}
	}
}

// TestEmitRetried refuses the first event twice: it is emitted once it is
// taken, and the event after it waits for it.
func TestEmitRetried(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	ns := env.Namespace(t)
	var refusals atomic.Int32
	rec := &sourcetest.Recorder{Refuse: func(ev sources.Event) error {
		if gjson.GetBytes(ev.Data, "body.metadata.name").String() == "first" && refusals.Add(1) <= 2 {
			return errors.New("broker unavailable")
		}
		return nil
	}}
	start(t, env, eventSource(map[string]v1alpha1.ResourceEventSource{"cfg": configMaps(ns, v1alpha1.ADD)}), rec.Emit)
	createConfigMap(t, env, ns, "first", nil, nil)
	createConfigMap(t, env, ns, "second", nil, nil)
	evs := collect(t, rec, 2)
	var got []string
	for _, ev := range evs {
		got = append(got, gjson.GetBytes(ev.Data, "body.metadata.name").String())
	}
	if want := []string{"first", "second"}; !slices.Equal(got, want) {
		t.Errorf("emitted %v, want %v", got, want)
	}
	if n := refusals.Load(); n != 3 {
		t.Errorf("first was offered %d times, want 3", n)
	}
}

// TestStopsOnCancel checks that Run returns promptly after cancel, idle or
// while it retries an event the emitter keeps refusing.
func TestStopsOnCancel(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	tests := []struct {
		name   string
		refuse bool
	}{
		{name: "idle"},
		{name: "retrying", refuse: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := env.Namespace(t)
			offered := make(chan struct{}, 1)
			rec := &sourcetest.Recorder{Refuse: func(sources.Event) error {
				select {
				case offered <- struct{}{}:
				default:
				}
				if tc.refuse {
					return errors.New("broker unavailable")
				}
				return nil
			}}
			r := start(t, env, eventSource(map[string]v1alpha1.ResourceEventSource{"cfg": configMaps(ns, v1alpha1.ADD)}), rec.Emit)
			if tc.refuse {
				createConfigMap(t, env, ns, "stuck", nil, nil)
				select {
				case <-offered:
				case <-time.After(20 * time.Second):
					t.Fatal("no event offered")
				}
			}
			began := time.Now()
			if err := r.stop(2 * time.Second); err != nil {
				t.Fatal(err)
			}
			t.Logf("Run returned %s after cancel", time.Since(began))
		})
	}
}

// broker is an httptest server keeping the CloudEvents POSTed to it.
type broker struct {
	*httptest.Server
	mu     sync.Mutex
	events []cloudevents.Event
}

func newBroker(t *testing.T) *broker {
	t.Helper()
	b := &broker{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := cehttp.NewEventFromHTTPRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b.mu.Lock()
		b.events = append(b.events, *ev)
		b.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *broker) stored() []cloudevents.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]cloudevents.Event(nil), b.events...)
}

const imageYAML = `apiVersion: argoproj.io/v1alpha1
kind: EventSource
metadata:
  name: k8s-resource
spec:
  resource:
    example:
      namespace: %s
      version: v1
      resource: pods
      eventTypes: [ADD]
      filter:
        labels:
          - key: app
            operation: "=="
            value: my-pod
`

// TestImage runs the resource image's main body against the cluster of a
// kubeconfig: a Pod created → its CloudEvent at the broker.
func TestImage(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	ns := env.Namespace(t)
	b := newBroker(t)
	vars := map[string]string{
		"EVENTSOURCE_OBJECT": base64.StdEncoding.EncodeToString(fmt.Appendf(nil, imageYAML, ns)),
		"K_SINK":             b.URL + "/" + ns + "/default",
		"LOG_LEVEL":          "error",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- host.Main(ctx, resource.Type, []string{"--kubeconfig", env.Kubeconfig(t)}, func(k string) string { return vars[k] })
	}()
	createPod(t, env, ns, "my-pod", map[string]string{"app": "my-pod"})
	deadline := time.Now().Add(20 * time.Second)
	for len(b.stored()) == 0 {
		select {
		case err := <-done:
			t.Fatalf("Main returned early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("no event at the broker after 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ev := b.stored()[0]
	if ev.Source() != "k8s-resource" || ev.Subject() != "example" || ev.Type() != resource.Type || ev.ID() == "" {
		t.Errorf("event %s", ev)
	}
	if got := gjson.GetBytes(ev.Data(), "body.metadata.name").String(); got != "my-pod" {
		t.Errorf("body.metadata.name = %q in %s", got, ev.Data())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Main = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Main did not return after cancel")
	}
}

// TestImageWithoutCluster checks that the image refuses to start, naming the
// field, when it has no cluster.
func TestImageWithoutCluster(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	vars := map[string]string{
		"EVENTSOURCE_OBJECT": fmt.Sprintf(imageYAML, "default"),
		"K_SINK":             "http://127.0.0.1:1/ns/default",
		"LOG_LEVEL":          "error",
	}
	err := host.Main(context.Background(), resource.Type, nil, func(k string) string { return vars[k] })
	if err == nil || !strings.Contains(err.Error(), "spec.resource") || !strings.Contains(err.Error(), "needs a Kubernetes cluster") {
		t.Fatalf("Main = %v, want the no-cluster field error", err)
	}
}

// TestImageWithBrokenKubeconfig checks that the image refuses to start,
// naming the kubeconfig, when the one it is given cannot be loaded.
func TestImageWithBrokenKubeconfig(t *testing.T) {
	t.Parallel()
	vars := map[string]string{
		"EVENTSOURCE_OBJECT": fmt.Sprintf(imageYAML, "default"),
		"K_SINK":             "http://127.0.0.1:1/ns/default",
		"LOG_LEVEL":          "error",
	}
	missing := filepath.Join(t.TempDir(), "kubeconfig")
	err := host.Main(context.Background(), resource.Type, []string{"--kubeconfig", missing}, func(k string) string { return vars[k] })
	if err == nil || !strings.Contains(err.Error(), "loading kubeconfig "+missing) {
		t.Fatalf("Main = %v, want an error naming kubeconfig %s", err, missing)
	}
}
