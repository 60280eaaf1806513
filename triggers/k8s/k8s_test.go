package k8s_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stypes "k8s.io/apimachinery/pkg/types"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/pkg/sensor"
	"github.com/flintevents/flint/pkg/sensor/sensortest"
	_ "github.com/flintevents/flint/triggers/k8s"
	"github.com/flintevents/flint/triggers/k8s/object/objecttest"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

const argoCRDs = "../../test/crds/argo-workflows.yaml"

var (
	configMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	pods        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	workflows   = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}
)

func str(obj *unstructured.Unstructured, fields ...string) string {
	s, _, _ := unstructured.NestedString(obj.Object, fields...)
	return s
}

// data is the data of a ConfigMap.
func data(cm *unstructured.Unstructured) map[string]string {
	d, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	return d
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
	get := func(t *testing.T, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
		t.Helper()
		return objecttest.Get(t, env.Clients, gvr, ns, name)
	}
	// settingsData is the data of the ConfigMap settings.
	settingsData := func(t *testing.T, ns string) map[string]string {
		t.Helper()
		return data(get(t, configMaps, ns, "settings"))
	}
	withSettings := func(t *testing.T, ns string) { objecttest.Create(t, env.Clients, configMaps, ns, settings) }
	withWeb := func(t *testing.T, ns string) { objecttest.Create(t, env.Clients, deployments, ns, web) }
	// patchedWeb checks web after a patch: its containers, and the labels the patch set.
	patchedWeb := func(want map[string]string) func(t *testing.T, ns string) {
		return func(t *testing.T, ns string) {
			d := get(t, deployments, ns, "web")
			wantMap(t, "containers", containers(d), want)
			wantMap(t, "labels", d.GetLabels(), map[string]string{"keep": "1", "patched": "yes"})
		}
	}

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
				cm := get(t, configMaps, ns, "greeting")
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
				if got := str(get(t, configMaps, ns, "renamed"), "data", "kind"); got != "order" {
					t.Errorf("data.kind = %q, want order", got)
				}
			},
		},
		{
			name: "create a Pod with generateName", sensor: "create-pod-generatename",
			body: `{"image":"busybox:1.36","message":"hi"}`,
			check: func(t *testing.T, ns string) {
				items := objecttest.List(t, env.Clients, pods, ns)
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
			setup: withSettings,
			body:  `{"value":"two"}`,
			check: func(t *testing.T, ns string) {
				cm := get(t, configMaps, ns, "settings")
				wantMap(t, "data", data(cm), map[string]string{"a": "1", "b": "two"})
				wantMap(t, "labels", cm.GetLabels(), map[string]string{"keep": "1", "updated": "yes"})
			},
		},
		{
			name: "update creates a missing object", sensor: "update",
			body: `{"value":"two"}`,
			check: func(t *testing.T, ns string) {
				wantMap(t, "data", settingsData(t, ns), map[string]string{"b": "two"})
			},
		},
		{
			name: "liveObject applies the parameters to the live object", sensor: "live-object",
			setup: withSettings,
			body:  `{"value":"+1"}`,
			check: func(t *testing.T, ns string) {
				wantMap(t, "data", settingsData(t, ns), map[string]string{"a": "1+1", "b": "2"})
			},
		},
		{
			name: "patch without a strategy is a merge patch", sensor: "patch-default",
			setup: withSettings,
			body:  `{"value":"two"}`,
			check: func(t *testing.T, ns string) {
				wantMap(t, "data", settingsData(t, ns), map[string]string{"a": "1", "b": "two"})
			},
		},
		{
			name: "apply patch takes the fields as the flint field manager", sensor: "patch-apply",
			setup: withSettings,
			body:  `{"value":"two"}`,
			check: func(t *testing.T, ns string) {
				cm := get(t, configMaps, ns, "settings")
				wantMap(t, "data", data(cm), map[string]string{"a": "1", "b": "two"})
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
			setup: withWeb, body: `{"image":"envoy:2"}`,
			check: patchedWeb(map[string]string{"sidecar": "envoy:2"}),
		},
		{
			name: "strategic merge patch merges containers by name", sensor: "patch",
			repl:  map[string]string{"PATCH_STRATEGY": string(k8stypes.StrategicMergePatchType)},
			setup: withWeb, body: `{"image":"envoy:2"}`,
			check: patchedWeb(map[string]string{"main": "nginx:1", "sidecar": "envoy:2"}),
		},
		{
			name: "json patch sets the object's fields", sensor: "patch",
			repl:  map[string]string{"PATCH_STRATEGY": string(k8stypes.JSONPatchType)},
			setup: withWeb, body: `{"image":"envoy:2"}`,
			check: patchedWeb(map[string]string{"sidecar": "envoy:2"}),
		},
		{
			name: "delete", sensor: "delete",
			setup: func(t *testing.T, ns string) {
				objecttest.Create(t, env.Clients, configMaps, ns, "{apiVersion: v1, kind: ConfigMap, metadata: {name: doomed}}")
				objecttest.Create(t, env.Clients, configMaps, ns, "{apiVersion: v1, kind: ConfigMap, metadata: {name: kept}}")
			},
			body: `{"name":"doomed"}`,
			check: func(t *testing.T, ns string) {
				_, err := env.Clients.Dynamic.Resource(configMaps).Namespace(ns).Get(t.Context(), "doomed", metav1.GetOptions{})
				if !apierrors.IsNotFound(err) {
					t.Errorf("reading the deleted ConfigMap = %v, want not found", err)
				}
				get(t, configMaps, ns, "kept")
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
				objecttest.Create(t, env.Clients, configMaps, ns, `
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
				if got := str(get(t, configMaps, ns, "from-configmap"), "data", "greeting"); got != "hello" {
					t.Errorf("data.greeting = %q, want hello", got)
				}
			},
		},
		{
			name: "source from a URL", sensor: "source-url",
			repl: map[string]string{"TARGET": objects.URL},
			body: `{"greeting":"hello"}`,
			check: func(t *testing.T, ns string) {
				if got := str(get(t, configMaps, ns, "from-url"), "data", "greeting"); got != "hello" {
					t.Errorf("data.greeting = %q, want hello", got)
				}
			},
		},
		{
			name: "a custom resource", sensor: "crd",
			body: `{"message":"hello argo"}`,
			check: func(t *testing.T, ns string) {
				items := objecttest.List(t, env.Clients, workflows, ns)
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
			if tc.setup != nil {
				tc.setup(t, ns)
			}
			if err := sensortest.Handle(t, env.Clients, sensortest.LoadSensor(t, tc.sensor, ns, tc.repl), tc.body); err != nil {
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
			err := sensortest.Handle(t, env.Clients, sensortest.LoadSensor(t, tc.sensor, env.Namespace(t), tc.repl), tc.body)
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
			s := sensortest.LoadSensor(t, "policy", ns, map[string]string{"ERROR_ON_TIMEOUT": fmt.Sprint(tc.errorOnTimeout)})
			sn := sensortest.NewSensor(t, env.Clients, s)
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
			err := sn.Handle(t.Context(), sensortest.WebhookEvent("e1", `{"name":"ready-cm"}`))
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
			cm := objecttest.Get(t, env.Clients, configMaps, ns, "ready-cm")
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

func TestNewProblems(t *testing.T) {
	t.Parallel()
	objecttest.RunProblems(t, v1alpha1.TriggerTypeK8s, []objecttest.Problem{
		{Name: "no cluster", NoKube: true, Spec: "source: {inline: 'kind: ConfigMap'}",
			WantPath: "", WantMsg: "needs a Kubernetes cluster: run flint dev with --kubeconfig"},
		{Name: "git source", Spec: "source: {git: {url: 'https://example.com/r.git', cloneDirectory: /tmp/r, filePath: cm.yaml}}",
			WantPath: "source.git", WantMsg: "not runnable yet: git sources"},
		{Name: "s3 source", Spec: "source: {s3: {endpoint: s3.example.com, bucket: {name: b, key: k}}}",
			WantPath: "source.s3", WantMsg: "not runnable yet: s3 sources"},
		{Name: "unknown operation", Spec: "source: {inline: 'kind: ConfigMap'}\noperation: replace",
			WantPath: "operation", WantMsg: "invalid value"},
		{Name: "unknown patch strategy", Spec: "source: {inline: 'kind: ConfigMap'}\noperation: patch\npatchStrategy: text/plain",
			WantPath: "patchStrategy", WantMsg: "invalid value"},
	})
}

// TestExamples loads sensors written as Argo's examples/sensors are: those
// with a source flint reads build as `flint dev` builds them, the others are
// refused naming the field.
func TestExamples(t *testing.T) {
	t.Parallel()
	sensortest.RunExamples(t, v1alpha1.TriggerTypeK8s, map[string]string{
		"trigger-source-git.yaml": "spec.triggers[0].template.k8s.source.git",
	})
}
