package argoworkflow_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/kube"
	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/pkg/sensor"
	"github.com/flintevents/flint/triggers"
	_ "github.com/flintevents/flint/triggers/argoworkflow"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

const argoCRDs = "../../test/crds/argo-workflows.yaml"

func argo(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: resource}
}

var workflows = argo("workflows")

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

// handle runs one webhook event with body through the sensor and returns Handle's error.
func handle(t *testing.T, env *kubetest.Env, s *v1alpha1.Sensor, body string) error {
	t.Helper()
	sn, err := sensor.New(s, sensor.Options{Deps: triggers.Deps{Logger: zaptest.NewLogger(t), Kube: env.Clients}})
	if err != nil {
		t.Fatalf("sensor.New = %v", err)
	}
	t.Cleanup(func() { _ = sn.Close() })
	ev := &event.Event{
		Context: event.Context{ID: "e1", Source: "webhook", Subject: "example", Type: "webhook", SpecVersion: "1.0",
			DataContentType: "application/json", Time: time.Now().UTC()},
		Data: []byte(`{"header":{},"body":` + body + `}`),
	}
	return sn.Handle(t.Context(), ev)
}

// create creates the YAML object through gvr, in ns unless it is "", with
// TEMPLATE replaced by name.
func create(t *testing.T, env *kubetest.Env, gvr schema.GroupVersionResource, ns, doc, name string) {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(strings.ReplaceAll(doc, "TEMPLATE", name)), &m); err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{Object: m}
	var err error
	if ns == "" {
		_, err = env.Clients.Dynamic.Resource(gvr).Create(t.Context(), obj, metav1.CreateOptions{})
		t.Cleanup(func() {
			_ = env.Clients.Dynamic.Resource(gvr).Delete(context.Background(), obj.GetName(), metav1.DeleteOptions{})
		})
	} else {
		_, err = env.Clients.Dynamic.Resource(gvr).Namespace(ns).Create(t.Context(), obj, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatalf("creating %s: %v", gvr.Resource, err)
	}
}

func listWorkflows(t *testing.T, env *kubetest.Env, ns string) []unstructured.Unstructured {
	t.Helper()
	l, err := env.Clients.Dynamic.Resource(workflows).Namespace(ns).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing workflows: %v", err)
	}
	return l.Items
}

// onlyNew returns the one Workflow of ns other than those named in old.
func onlyNew(t *testing.T, env *kubetest.Env, ns string, old ...string) *unstructured.Unstructured {
	t.Helper()
	var out []unstructured.Unstructured
	for _, wf := range listWorkflows(t, env, ns) {
		if !contains(old, wf.GetName()) {
			out = append(out, wf)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%d new workflows, want 1", len(out))
	}
	return &out[0]
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func getWorkflow(t *testing.T, env *kubetest.Env, ns, name string) *unstructured.Unstructured {
	t.Helper()
	wf, err := env.Clients.Dynamic.Resource(workflows).Namespace(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading workflow %s: %v", name, err)
	}
	return wf
}

// parameters returns spec.arguments.parameters as name=value, in order.
func parameters(wf *unstructured.Unstructured) []string {
	list, _, _ := unstructured.NestedSlice(wf.Object, "spec", "arguments", "parameters")
	var out []string
	for _, p := range list {
		m := p.(map[string]any)
		out = append(out, m["name"].(string)+"="+m["value"].(string))
	}
	return out
}

func field(obj *unstructured.Unstructured, fields ...string) any {
	v, _, _ := unstructured.NestedFieldNoCopy(obj.Object, fields...)
	return v
}

func TestSubmit(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	env.InstallCRDs(t, argoCRDs)
	ns := env.Namespace(t)
	if err := handle(t, env, loadSensor(t, "submit", map[string]string{"NAMESPACE": ns}), `{"message":"hello flint"}`); err != nil {
		t.Fatalf("Handle = %v", err)
	}
	wf := onlyNew(t, env, ns)
	if !strings.HasPrefix(wf.GetName(), "webhook-") || wf.GetName() == "webhook-" {
		t.Errorf("name %q, want webhook-<suffix>", wf.GetName())
	}
	if got, want := parameters(wf), []string{"extra=from-args", "message=hello flint"}; !reflect.DeepEqual(got, want) {
		t.Errorf("parameters = %v, want %v (args first, then the event's)", got, want)
	}
	labels := wf.GetLabels()
	if labels["team"] != "events" || labels["tier"] != "gold" || labels["events.argoproj.io/sensor"] != "webhook" ||
		labels["events.argoproj.io/trigger"] != "webhook-workflow-trigger" {
		t.Errorf("labels = %v, want --labels and Argo's sensor and trigger", labels)
	}
	if sa := field(wf, "spec", "serviceAccountName"); sa != "runner" {
		t.Errorf("serviceAccountName = %v, want runner", sa)
	}
}

func TestSubmitFrom(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	env.InstallCRDs(t, argoCRDs)
	tests := []struct {
		kind  string
		setup func(t *testing.T, ns, name string)
		check func(t *testing.T, ns string, wf *unstructured.Unstructured)
	}{
		{
			kind: "WorkflowTemplate",
			setup: func(t *testing.T, ns, name string) {
				create(t, env, argo("workflowtemplates"), ns, `
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: TEMPLATE}
spec: {entrypoint: main, templates: [{name: main, container: {image: alpine}}]}`, name)
			},
			check: func(t *testing.T, ns string, wf *unstructured.Unstructured) {
				ref := field(wf, "spec", "workflowTemplateRef")
				if !reflect.DeepEqual(ref, map[string]any{"name": "tmpl-" + ns, "clusterScope": false}) {
					t.Errorf("workflowTemplateRef = %v", ref)
				}
				if wf.GetLabels()["workflows.argoproj.io/workflow-template"] != "tmpl-"+ns {
					t.Errorf("labels = %v, want the workflow-template label", wf.GetLabels())
				}
			},
		},
		{
			kind: "ClusterWorkflowTemplate",
			setup: func(t *testing.T, ns, name string) {
				create(t, env, argo("clusterworkflowtemplates"), "", `
apiVersion: argoproj.io/v1alpha1
kind: ClusterWorkflowTemplate
metadata: {name: TEMPLATE}
spec: {entrypoint: main, templates: [{name: main, container: {image: alpine}}]}`, name)
			},
			check: func(t *testing.T, ns string, wf *unstructured.Unstructured) {
				ref := field(wf, "spec", "workflowTemplateRef")
				if !reflect.DeepEqual(ref, map[string]any{"name": "tmpl-" + ns, "clusterScope": true}) {
					t.Errorf("workflowTemplateRef = %v", ref)
				}
				if wf.GetLabels()["workflows.argoproj.io/cluster-workflow-template"] != "tmpl-"+ns {
					t.Errorf("labels = %v, want the cluster-workflow-template label", wf.GetLabels())
				}
			},
		},
		{
			kind: "CronWorkflow",
			setup: func(t *testing.T, ns, name string) {
				create(t, env, argo("cronworkflows"), ns, `
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: TEMPLATE}
spec:
  schedule: "* * * * *"
  workflowMetadata: {labels: {from: cron}}
  workflowSpec:
    entrypoint: main
    arguments: {parameters: [{name: message, value: cron}]}
    templates: [{name: main, container: {image: alpine}}]`, name)
			},
			check: func(t *testing.T, ns string, wf *unstructured.Unstructured) {
				if ep := field(wf, "spec", "entrypoint"); ep != "main" {
					t.Errorf("entrypoint = %v, want the CronWorkflow's workflowSpec", ep)
				}
				labels := wf.GetLabels()
				if labels["workflows.argoproj.io/cron-workflow"] != "tmpl-"+ns || labels["from"] != "cron" {
					t.Errorf("labels = %v, want the cron-workflow label and workflowMetadata's", labels)
				}
				owners := wf.GetOwnerReferences()
				if len(owners) != 1 || owners[0].Kind != "CronWorkflow" || owners[0].Name != "tmpl-"+ns {
					t.Errorf("owners = %v, want the CronWorkflow", owners)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			t.Parallel()
			ns := env.Namespace(t)
			// The template's name is unique per test: ClusterWorkflowTemplates share the cluster.
			name := "tmpl-" + ns
			tc.setup(t, ns, name)
			s := loadSensor(t, "submit-from", map[string]string{"NAMESPACE": ns, "KIND": tc.kind})
			if err := handle(t, env, s, `{"template":"`+name+`"}`); err != nil {
				t.Fatalf("Handle = %v", err)
			}
			wf := onlyNew(t, env, ns)
			if !strings.HasPrefix(wf.GetName(), name+"-") {
				t.Errorf("name %q, want %s-<suffix>", wf.GetName(), name)
			}
			if got := parameters(wf); len(got) == 0 || got[0] != "message=from-args" {
				t.Errorf("parameters = %v, want message=from-args first", got)
			}
			tc.check(t, ns, wf)
		})
	}
	t.Run("a missing template fails the firing", func(t *testing.T) {
		t.Parallel()
		ns := env.Namespace(t)
		s := loadSensor(t, "submit-from", map[string]string{"NAMESPACE": ns, "KIND": "WorkflowTemplate"})
		err := handle(t, env, s, `{"template":"absent"}`)
		if !errors.Is(err, sensor.ErrTriggerFailed) || !strings.Contains(err.Error(), "WorkflowTemplate absent") {
			t.Fatalf("Handle = %v, want a failure naming the template", err)
		}
	})
}

func TestOperations(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	env.InstallCRDs(t, argoCRDs)
	const running = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf, generateName: build-, labels: {team: events, workflows.argoproj.io/phase: Running}}
spec: {entrypoint: main, shutdown: Stop, templates: [{name: main, container: {image: alpine}}]}
status: {phase: Running}`
	const suspended = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec: {entrypoint: main, suspend: true, templates: [{name: main, suspend: {}}]}
status:
  phase: Running
  nodes:
    wf: {id: wf, name: wf, type: Suspend, phase: Running}
    done: {id: done, name: done, type: Pod, phase: Running}`
	const succeeded = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec: {entrypoint: main, templates: [{name: main, container: {image: alpine}}]}
status: {phase: Succeeded}`
	tests := []struct {
		name, op, workflow string
		wantErr            string
		check              func(t *testing.T, ns string)
	}{
		{name: "suspend sets spec.suspend", op: "suspend", workflow: running, check: func(t *testing.T, ns string) {
			if v := field(getWorkflow(t, env, ns, "wf"), "spec", "suspend"); v != true {
				t.Errorf("spec.suspend = %v, want true", v)
			}
		}},
		{name: "resume clears spec.suspend and completes suspend nodes", op: "resume", workflow: suspended, check: func(t *testing.T, ns string) {
			wf := getWorkflow(t, env, ns, "wf")
			if v, found, _ := unstructured.NestedFieldNoCopy(wf.Object, "spec", "suspend"); found {
				t.Errorf("spec.suspend = %v, want it cleared", v)
			}
			if p := field(wf, "status", "nodes", "wf", "phase"); p != "Succeeded" {
				t.Errorf("suspend node phase = %v, want Succeeded", p)
			}
			if p := field(wf, "status", "nodes", "done", "phase"); p != "Running" {
				t.Errorf("pod node phase = %v, want it untouched", p)
			}
		}},
		{name: "terminate sets spec.shutdown", op: "terminate", workflow: running, check: func(t *testing.T, ns string) {
			if v := field(getWorkflow(t, env, ns, "wf"), "spec", "shutdown"); v != "Terminate" {
				t.Errorf("spec.shutdown = %v, want Terminate", v)
			}
		}},
		{name: "stop sets spec.shutdown", op: "stop", workflow: running, check: func(t *testing.T, ns string) {
			if v := field(getWorkflow(t, env, ns, "wf"), "spec", "shutdown"); v != "Stop" {
				t.Errorf("spec.shutdown = %v, want Stop", v)
			}
		}},
		{name: "stop refuses a completed workflow", op: "stop", workflow: succeeded, wantErr: "has completed (Succeeded)"},
		{name: "suspend refuses a completed workflow", op: "suspend", workflow: succeeded, wantErr: "has completed (Succeeded)"},
		{name: "resubmit creates a new workflow from the old spec", op: "resubmit", workflow: running, check: func(t *testing.T, ns string) {
			wf := onlyNew(t, env, ns, "wf")
			if !strings.HasPrefix(wf.GetName(), "build-") {
				t.Errorf("name %q, want the old generateName build-", wf.GetName())
			}
			labels := wf.GetLabels()
			if labels["workflows.argoproj.io/resubmitted-from-workflow"] != "wf" || labels["team"] != "events" {
				t.Errorf("labels = %v, want the old ones and resubmitted-from-workflow", labels)
			}
			if _, ok := labels["workflows.argoproj.io/phase"]; ok {
				t.Errorf("labels = %v, want the phase label dropped", labels)
			}
			if v := field(wf, "spec", "shutdown"); v != nil {
				t.Errorf("spec.shutdown = %v, want it cleared", v)
			}
			if v := field(wf, "spec", "entrypoint"); v != "main" {
				t.Errorf("spec.entrypoint = %v, want the old spec", v)
			}
		}},
		{name: "a missing workflow fails the firing", op: "stop", workflow: "", wantErr: "reading workflow wf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := env.Namespace(t)
			if tc.workflow != "" {
				create(t, env, workflows, ns, tc.workflow, "")
			}
			err := handle(t, env, loadSensor(t, "operation", map[string]string{"NAMESPACE": ns, "OPERATION": tc.op}), `{"workflow":"wf"}`)
			if tc.wantErr != "" {
				if !errors.Is(err, sensor.ErrTriggerFailed) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Handle = %v, want a failure with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Handle = %v", err)
			}
			tc.check(t, ns)
		})
	}
}

// noCluster are clients of an API server that is not there: New does no
// I/O, so triggers build with them.
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
	const src = "source: {resource: {apiVersion: argoproj.io/v1alpha1, kind: Workflow, metadata: {name: wf}}}\n"
	tests := []struct {
		name     string
		spec     string
		noKube   bool
		wantPath string
		wantMsg  string
	}{
		{name: "no cluster", noKube: true, spec: src, wantMsg: "needs a Kubernetes cluster: run flint dev with --kubeconfig"},
		{name: "retry", spec: src + "operation: retry", wantPath: "operation", wantMsg: "not runnable yet: operation retry"},
		{name: "unknown operation", spec: src + "operation: delete", wantPath: "operation", wantMsg: "invalid value"},
		{name: "git source", spec: "source: {git: {url: 'https://example.com/r.git', cloneDirectory: /tmp/r, filePath: wf.yaml}}",
			wantPath: "source.git", wantMsg: "not runnable yet: git sources"},
		{name: "an unknown arg", spec: src + `args: ["--name", "x", "--watch"]`, wantPath: "args[2]", wantMsg: `not runnable yet: argo CLI flag "--watch"`},
		{name: "a parameter without a value", spec: src + `args: ["-p", "message"]`, wantPath: "args[0]", wantMsg: "expected NAME=VALUE"},
		{name: "a flag without its value", spec: src + `args: ["--entrypoint"]`, wantPath: "args[0]", wantMsg: "needs a value"},
		{name: "args on suspend", spec: src + "operation: suspend\nargs: [\"--name=x\"]", wantPath: "args[0]", wantMsg: "suspend takes no args"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			typ, ok := triggers.Lookup(v1alpha1.TriggerTypeArgoWorkflow)
			if !ok {
				t.Fatal("argoWorkflow is not registered")
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
// flint can run build as `flint dev` builds them, with a cluster; the others
// are refused naming the field.
func TestExamples(t *testing.T) {
	t.Parallel()
	refused := map[string]string{
		"trigger-workflow-retry.yaml": "spec.triggers[0].template.argoWorkflow.operation",
	}
	files, err := filepath.Glob(filepath.Join("testdata", "examples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			want, isRefused := refused[filepath.Base(file)]
			if !isRefused {
				want = "spec.triggers[0].template.argoWorkflow"
				if err := buildExample(t, file, noCluster(t)); err != nil {
					t.Fatalf("building the sensor = %v", err)
				}
			}
			// Without a cluster every example is refused at its trigger.
			var clients *kube.Clients
			if isRefused {
				clients = noCluster(t)
			}
			err := buildExample(t, file, clients)
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
