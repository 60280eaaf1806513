package k8s_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/kube"
	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/pkg/sensor"
	"github.com/flintevents/flint/triggers"
	_ "github.com/flintevents/flint/triggers/k8s"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

const argoCRDs = "../../test/crds/argo-workflows.yaml"

var (
	configMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	pods        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	workflows   = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}
)

// loadSensor reads testdata/<name>.yaml with each key of repl replaced by its value.
func loadSensor(t *testing.T, name string, repl map[string]string) *v1alpha1.Sensor {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for k, v := range repl {
		text = strings.ReplaceAll(text, k, v)
	}
	var s v1alpha1.Sensor
	if err := yaml.UnmarshalStrict([]byte(text), &s); err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
	return &s
}

// webhookEvent is the event of the webhook "example" with body as its body.
func webhookEvent(id, body string) *event.Event {
	return &event.Event{
		Context: event.Context{ID: id, Source: "webhook", Subject: "example", Type: "webhook", SpecVersion: "1.0",
			DataContentType: "application/json", Time: time.Now().UTC()},
		Data: []byte(`{"header":{},"body":` + body + `}`),
	}
}

// newSensor compiles s through the engine with the test cluster's clients.
func newSensor(t *testing.T, env *kubetest.Env, s *v1alpha1.Sensor) *sensor.Sensor {
	t.Helper()
	sn, err := sensor.New(s, sensor.Options{Deps: triggers.Deps{Logger: zaptest.NewLogger(t), Kube: env.Clients}})
	if err != nil {
		t.Fatalf("sensor.New = %v", err)
	}
	t.Cleanup(func() { _ = sn.Close() })
	return sn
}

// apply creates each YAML object in ns.
func apply(t *testing.T, env *kubetest.Env, ns string, gvr schema.GroupVersionResource, docs ...string) {
	t.Helper()
	for _, doc := range docs {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Clients.Dynamic.Resource(gvr).Namespace(ns).Create(t.Context(), &unstructured.Unstructured{Object: m}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating %s: %v", gvr.Resource, err)
		}
	}
}

func get(t *testing.T, env *kubetest.Env, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	obj, err := env.Clients.Dynamic.Resource(gvr).Namespace(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading %s %s/%s: %v", gvr.Resource, ns, name, err)
	}
	return obj
}

func list(t *testing.T, env *kubetest.Env, gvr schema.GroupVersionResource, ns string) []unstructured.Unstructured {
	t.Helper()
	l, err := env.Clients.Dynamic.Resource(gvr).Namespace(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing %s in %s: %v", gvr.Resource, ns, err)
	}
	return l.Items
}

func str(obj *unstructured.Unstructured, fields ...string) string {
	s, _, _ := unstructured.NestedString(obj.Object, fields...)
	return s
}

func wantMap(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// settings is the ConfigMap the update and patch cases change.
const settings = `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, labels: {keep: "1"}}
data: {a: "1", b: "2"}
`

// web is the Deployment the patch cases change: two containers.
const web = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {keep: "1", drop: me}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: main, image: nginx:1}
        - {name: sidecar, image: envoy:1}
`

func containers(obj *unstructured.Unstructured) map[string]string {
	list, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
	out := map[string]string{}
	for _, c := range list {
		m := c.(map[string]any)
		out[m["name"].(string)] = m["image"].(string)
	}
	return out
}

func TestHandle(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	env.InstallCRDs(t, argoCRDs)
	objects := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/objects/configmap.yaml" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-url\ndata:\n  greeting: placeholder\n")
	}))
	t.Cleanup(objects.Close)

	tests := []struct {
		name   string
		sensor string
		repl   map[string]string
		setup  func(t *testing.T, ns string)
		body   string
		check  func(t *testing.T, ns string)
	}{
		{
			name: "create a ConfigMap from an inline source with parameters", sensor: "create-inline",
			body: `{"name":"greeting","greeting":"hello flint"}`,
			check: func(t *testing.T, ns string) {
				cm := get(t, env, configMaps, ns, "greeting")
				if got := str(cm, "data", "greeting"); got != "hello flint" {
					t.Errorf("data.greeting = %q, want the event's", got)
				}
				labels := cm.GetLabels()
				if labels["app"] != "greeter" || labels["events.argoproj.io/sensor"] != "webhook" ||
					labels["events.argoproj.io/trigger"] != "configmap-trigger" || labels["events.argoproj.io/action-timestamp"] == "" {
					t.Errorf("labels = %v, want the source's and Argo's sensor, trigger and action-timestamp", labels)
				}
			},
		},
		{
			name: "trigger-level parameters rewrite the source", sensor: "trigger-parameters",
			body: `{"name":"renamed","kind":"order"}`,
			check: func(t *testing.T, ns string) {
				if got := str(get(t, env, configMaps, ns, "renamed"), "data", "kind"); got != "order" {
					t.Errorf("data.kind = %q, want order", got)
				}
			},
		},
		{
			name: "create a Pod with generateName", sensor: "create-pod-generatename",
			body: `{"image":"busybox:1.36","message":"hi"}`,
			check: func(t *testing.T, ns string) {
				items := list(t, env, pods, ns)
				if len(items) != 1 {
					t.Fatalf("%d pods, want 1", len(items))
				}
				p := &items[0]
				if !strings.HasPrefix(p.GetName(), "hello-world-") || p.GetName() == "hello-world-" {
					t.Errorf("pod name %q, want hello-world-<suffix>", p.GetName())
				}
				cs, _, _ := unstructured.NestedSlice(p.Object, "spec", "containers")
				c := cs[0].(map[string]any)
				if c["image"] != "busybox:1.36" || c["args"].([]any)[0] != "hi" {
					t.Errorf("container = %v, want the event's image and args", c)
				}
			},
		},
		{
			name: "update merges into the live object", sensor: "update",
			setup: func(t *testing.T, ns string) { apply(t, env, ns, configMaps, settings) },
			body:  `{"value":"two"}`,
			check: func(t *testing.T, ns string) {
				cm := get(t, env, configMaps, ns, "settings")
				data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
				wantMap(t, "data", data, map[string]string{"a": "1", "b": "two"})
				wantMap(t, "labels", cm.GetLabels(), map[string]string{"keep": "1", "updated": "yes"})
			},
		},
		{
			name: "update creates a missing object", sensor: "update",
			body: `{"value":"two"}`,
			check: func(t *testing.T, ns string) {
				data, _, _ := unstructured.NestedStringMap(get(t, env, configMaps, ns, "settings").Object, "data")
				wantMap(t, "data", data, map[string]string{"b": "two"})
			},
		},
		{
			name: "liveObject applies the parameters to the live object", sensor: "live-object",
			setup: func(t *testing.T, ns string) { apply(t, env, ns, configMaps, settings) },
			body:  `{"value":"+1"}`,
			check: func(t *testing.T, ns string) {
				data, _, _ := unstructured.NestedStringMap(get(t, env, configMaps, ns, "settings").Object, "data")
				wantMap(t, "data", data, map[string]string{"a": "1+1", "b": "2"})
			},
		},
		{
			name: "patch without a strategy is a merge patch", sensor: "patch-default",
			setup: func(t *testing.T, ns string) { apply(t, env, ns, configMaps, settings) },
			body:  `{"value":"two"}`,
			check: func(t *testing.T, ns string) {
				data, _, _ := unstructured.NestedStringMap(get(t, env, configMaps, ns, "settings").Object, "data")
				wantMap(t, "data", data, map[string]string{"a": "1", "b": "two"})
			},
		},
		{
			name: "apply patch takes the fields as the flint field manager", sensor: "patch-apply",
			setup: func(t *testing.T, ns string) { apply(t, env, ns, configMaps, settings) },
			body:  `{"value":"two"}`,
			check: func(t *testing.T, ns string) {
				cm := get(t, env, configMaps, ns, "settings")
				data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
				wantMap(t, "data", data, map[string]string{"a": "1", "b": "two"})
				managers := map[string]string{}
				for _, f := range cm.GetManagedFields() {
					managers[f.Manager] = string(f.Operation)
				}
				if managers["flint"] != "Apply" {
					t.Errorf("managers = %v, want flint applying", managers)
				}
			},
		},
		{
			name: "merge patch replaces lists", sensor: "patch",
			repl:  map[string]string{"PATCH_STRATEGY": string(k8stypes.MergePatchType)},
			setup: func(t *testing.T, ns string) { apply(t, env, ns, deployments, web) },
			body:  `{"image":"envoy:2"}`,
			check: func(t *testing.T, ns string) {
				d := get(t, env, deployments, ns, "web")
				wantMap(t, "containers", containers(d), map[string]string{"sidecar": "envoy:2"})
				wantMap(t, "labels", d.GetLabels(), map[string]string{"keep": "1", "patched": "yes"})
			},
		},
		{
			name: "strategic merge patch merges containers by name", sensor: "patch",
			repl:  map[string]string{"PATCH_STRATEGY": string(k8stypes.StrategicMergePatchType)},
			setup: func(t *testing.T, ns string) { apply(t, env, ns, deployments, web) },
			body:  `{"image":"envoy:2"}`,
			check: func(t *testing.T, ns string) {
				d := get(t, env, deployments, ns, "web")
				wantMap(t, "containers", containers(d), map[string]string{"main": "nginx:1", "sidecar": "envoy:2"})
				wantMap(t, "labels", d.GetLabels(), map[string]string{"keep": "1", "patched": "yes"})
			},
		},
		{
			name: "json patch sets the object's fields", sensor: "patch",
			repl:  map[string]string{"PATCH_STRATEGY": string(k8stypes.JSONPatchType)},
			setup: func(t *testing.T, ns string) { apply(t, env, ns, deployments, web) },
			body:  `{"image":"envoy:2"}`,
			check: func(t *testing.T, ns string) {
				d := get(t, env, deployments, ns, "web")
				wantMap(t, "containers", containers(d), map[string]string{"sidecar": "envoy:2"})
				wantMap(t, "labels", d.GetLabels(), map[string]string{"keep": "1", "patched": "yes"})
			},
		},
		{
			name: "delete", sensor: "delete",
			setup: func(t *testing.T, ns string) {
				apply(t, env, ns, configMaps, "{apiVersion: v1, kind: ConfigMap, metadata: {name: doomed}}",
					"{apiVersion: v1, kind: ConfigMap, metadata: {name: kept}}")
			},
			body: `{"name":"doomed"}`,
			check: func(t *testing.T, ns string) {
				_, err := env.Clients.Dynamic.Resource(configMaps).Namespace(ns).Get(t.Context(), "doomed", metav1.GetOptions{})
				if !apierrors.IsNotFound(err) {
					t.Errorf("reading the deleted ConfigMap = %v, want not found", err)
				}
				get(t, env, configMaps, ns, "kept")
			},
		},
		{
			name: "delete of a missing object succeeds", sensor: "delete",
			body:  `{"name":"never-was"}`,
			check: func(t *testing.T, ns string) {},
		},
		{
			name: "source from a ConfigMap of the sensor's namespace", sensor: "source-configmap",
			setup: func(t *testing.T, ns string) {
				apply(t, env, ns, configMaps, `
apiVersion: v1
kind: ConfigMap
metadata: {name: trigger-source}
data:
  object: |
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: from-configmap
    data:
      greeting: placeholder
`)
			},
			body: `{"greeting":"hello"}`,
			check: func(t *testing.T, ns string) {
				if got := str(get(t, env, configMaps, ns, "from-configmap"), "data", "greeting"); got != "hello" {
					t.Errorf("data.greeting = %q, want hello", got)
				}
			},
		},
		{
			name: "source from a URL", sensor: "source-url",
			repl: map[string]string{"TARGET": objects.URL},
			body: `{"greeting":"hello"}`,
			check: func(t *testing.T, ns string) {
				if got := str(get(t, env, configMaps, ns, "from-url"), "data", "greeting"); got != "hello" {
					t.Errorf("data.greeting = %q, want hello", got)
				}
			},
		},
		{
			name: "a custom resource", sensor: "crd",
			body: `{"message":"hello argo"}`,
			check: func(t *testing.T, ns string) {
				items := list(t, env, workflows, ns)
				if len(items) != 1 || !strings.HasPrefix(items[0].GetName(), "crd-") {
					t.Fatalf("workflows = %v, want one crd-<suffix>", items)
				}
				params, _, _ := unstructured.NestedSlice(items[0].Object, "spec", "arguments", "parameters")
				if v := params[0].(map[string]any)["value"]; v != "hello argo" {
					t.Errorf("parameter value = %v, want the event's", v)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := env.Namespace(t)
			repl := map[string]string{"NAMESPACE": ns}
			for k, v := range tc.repl {
				repl[k] = v
			}
			if tc.setup != nil {
				tc.setup(t, ns)
			}
			sn := newSensor(t, env, loadSensor(t, tc.sensor, repl))
			if err := sn.Handle(t.Context(), webhookEvent("e1", tc.body)); err != nil {
				t.Fatalf("Handle = %v", err)
			}
			tc.check(t, ns)
		})
	}
}

func TestHandleFailures(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	tests := []struct {
		name    string
		sensor  string
		repl    map[string]string
		body    string
		wantErr string
	}{
		{name: "a parameter makes an invalid object", sensor: "create-inline",
			body: `{"name":"Not_A_Name","greeting":"x"}`, wantErr: "Not_A_Name"},
		{name: "the ConfigMap source is missing", sensor: "source-configmap",
			body: `{"greeting":"x"}`, wantErr: "k8s.source.configmap"},
		{name: "the URL source is unreachable", sensor: "source-url", repl: map[string]string{"TARGET": "http://127.0.0.1:1"},
			body: `{"greeting":"x"}`, wantErr: "k8s.source.url"},
		{name: "liveObject of a missing object", sensor: "live-object",
			body: `{"value":"x"}`, wantErr: "liveObject"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := env.Namespace(t)
			repl := map[string]string{"NAMESPACE": ns}
			for k, v := range tc.repl {
				repl[k] = v
			}
			sn := newSensor(t, env, loadSensor(t, tc.sensor, repl))
			err := sn.Handle(t.Context(), webhookEvent("e1", tc.body))
			if !errors.Is(err, sensor.ErrTriggerFailed) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Handle = %v, want a trigger failure naming %q", err, tc.wantErr)
			}
		})
	}
}

func TestPolicyLabels(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	tests := []struct {
		name           string
		errorOnTimeout bool
		labelled       bool // something labels the object while the trigger waits
		wantErr        bool
	}{
		{name: "the labels appear", errorOnTimeout: true, labelled: true},
		{name: "timeout with errorOnBackoffTimeout fails", errorOnTimeout: true, wantErr: true},
		{name: "timeout without errorOnBackoffTimeout succeeds", errorOnTimeout: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := env.Namespace(t)
			s := loadSensor(t, "policy", map[string]string{"NAMESPACE": ns, "ERROR_ON_TIMEOUT": fmt.Sprint(tc.errorOnTimeout)})
			sn := newSensor(t, env, s)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			defer func() { cancel(); <-done }()
			go func() {
				defer close(done)
				if tc.labelled {
					labelWhenCreated(ctx, env, ns, "ready-cm")
				}
			}()
			start := time.Now()
			err := sn.Handle(t.Context(), webhookEvent("e1", `{"name":"ready-cm"}`))
			took := time.Since(start)
			if tc.wantErr {
				if !errors.Is(err, sensor.ErrTriggerFailed) || !strings.Contains(err.Error(), "policy.k8s") {
					t.Fatalf("Handle = %v, want a policy.k8s failure", err)
				}
			} else if err != nil {
				t.Fatalf("Handle = %v", err)
			}
			if !tc.labelled && took < 800*time.Millisecond {
				t.Errorf("Handle returned after %s, want the whole backoff (10 × 100ms)", took)
			}
			cm := get(t, env, configMaps, ns, "ready-cm")
			if tc.labelled && cm.GetLabels()["ready"] != "true" {
				t.Errorf("labels = %v", cm.GetLabels())
			}
		})
	}
}

// labelWhenCreated waits for the ConfigMap and labels it ready=true, as an
// operator would.
func labelWhenCreated(ctx context.Context, env *kubetest.Env, ns, name string) {
	cms := env.Clients.Dynamic.Resource(configMaps).Namespace(ns)
	for ctx.Err() == nil {
		_, err := cms.Patch(ctx, name, k8stypes.MergePatchType, []byte(`{"metadata":{"labels":{"ready":"true"}}}`), metav1.PatchOptions{})
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// noCluster are clients of an API server that is not there: New does no
// I/O, so sensors build with them.
func noCluster(t *testing.T) *kube.Clients {
	t.Helper()
	c, err := kube.New(&rest.Config{Host: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		spec     string
		noKube   bool
		wantPath string
		wantMsg  string
	}{
		{name: "no cluster", noKube: true, spec: "source: {inline: 'kind: ConfigMap'}",
			wantPath: "", wantMsg: "needs a Kubernetes cluster: run flint dev with --kubeconfig"},
		{name: "git source", spec: "source: {git: {url: 'https://example.com/r.git', cloneDirectory: /tmp/r, filePath: cm.yaml}}",
			wantPath: "source.git", wantMsg: "not runnable yet: git sources"},
		{name: "s3 source", spec: "source: {s3: {endpoint: s3.example.com, bucket: {name: b, key: k}}}",
			wantPath: "source.s3", wantMsg: "not runnable yet: s3 sources"},
		{name: "unknown operation", spec: "source: {inline: 'kind: ConfigMap'}\noperation: replace",
			wantPath: "operation", wantMsg: "invalid value"},
		{name: "unknown patch strategy", spec: "source: {inline: 'kind: ConfigMap'}\noperation: patch\npatchStrategy: text/plain",
			wantPath: "patchStrategy", wantMsg: "invalid value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			typ, ok := triggers.Lookup(v1alpha1.TriggerTypeK8s)
			if !ok {
				t.Fatal("k8s is not registered")
			}
			deps := triggers.Deps{}
			if !tc.noKube {
				deps.Kube = noCluster(t)
			}
			raw, err := yaml.YAMLToJSON([]byte(tc.spec))
			if err != nil {
				t.Fatal(err)
			}
			inst, err := typ.Build(raw, deps)
			if err == nil {
				_ = inst.Close()
				t.Fatalf("Build(%s) succeeded", raw)
			}
			var fe *apis.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Build = %v (%T), want a field error", err, err)
			}
			found := false
			for _, e := range fe.WrappedErrors() {
				for _, p := range e.Paths {
					if p == tc.wantPath && strings.Contains(e.Message, tc.wantMsg) {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("Build = %q, want %q at %q", fe, tc.wantMsg, tc.wantPath)
			}
		})
	}
}

// TestExamples loads sensors written as Argo's examples/sensors are: those
// with a source flint reads build as `flint dev` builds them, the others are
// refused naming the field.
func TestExamples(t *testing.T) {
	t.Parallel()
	refused := map[string]string{
		"trigger-source-git.yaml": "spec.triggers[0].template.k8s.source.git",
	}
	files, err := filepath.Glob(filepath.Join("testdata", "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			err := buildExample(t, file, noCluster(t))
			want, isRefused := refused[filepath.Base(file)]
			if !isRefused {
				if err != nil {
					t.Fatalf("building the sensor = %v", err)
				}
				err := buildExample(t, file, nil)
				var fe *apis.FieldError
				if !errors.As(err, &fe) || !slices.Contains(paths(fe), "spec.triggers[0].template.k8s") ||
					!strings.Contains(err.Error(), "needs a Kubernetes cluster") {
					t.Fatalf("building the sensor without a cluster = %v, want a problem at spec.triggers[0].template.k8s", err)
				}
				return
			}
			var fe *apis.FieldError
			if !errors.As(err, &fe) || !slices.Contains(paths(fe), want) {
				t.Fatalf("building the sensor = %v, want a problem at %s", err, want)
			}
		})
	}
}

// buildExample decodes, defaults, validates and compiles a sensor file.
func buildExample(t *testing.T, file string, clients *kube.Clients) error {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var s v1alpha1.Sensor
	if err := yaml.UnmarshalStrict(raw, &s); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	s.SetDefaults(t.Context())
	if fe := s.Validate(t.Context()); fe != nil {
		t.Fatalf("Validate = %v", fe)
	}
	sn, err := sensor.New(&s, sensor.Options{Deps: triggers.Deps{Kube: clients}})
	if err != nil {
		return err
	}
	return sn.Close()
}

func paths(fe *apis.FieldError) []string {
	var out []string
	for _, e := range fe.WrappedErrors() {
		out = append(out, e.Paths...)
	}
	return out
}
