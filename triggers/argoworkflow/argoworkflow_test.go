package argoworkflow_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/kubetest"
	"github.com/flintevents/flint/pkg/sensor"
	"github.com/flintevents/flint/pkg/sensor/sensortest"
	_ "github.com/flintevents/flint/triggers/argoworkflow"
	"github.com/flintevents/flint/triggers/k8s/object/objecttest"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

const argoCRDs = "../../test/crds/argo-workflows.yaml"

func argo(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: resource}
}

var workflows = argo("workflows")

// onlyNew returns the one Workflow of ns other than those named in old.
func onlyNew(t *testing.T, env *kubetest.Env, ns string, old ...string) *unstructured.Unstructured {
	t.Helper()
	var out []unstructured.Unstructured
	for _, wf := range objecttest.List(t, env.Clients, workflows, ns) {
		if !slices.Contains(old, wf.GetName()) {
			out = append(out, wf)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%d new workflows, want 1", len(out))
	}
	return &out[0]
}

func getWorkflow(t *testing.T, env *kubetest.Env, ns, name string) *unstructured.Unstructured {
	t.Helper()
	return objecttest.Get(t, env.Clients, workflows, ns, name)
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
	if err := sensortest.Handle(t, env.Clients, sensortest.LoadSensor(t, "submit", ns, nil), `{"message":"hello flint"}`); err != nil {
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
				objecttest.Create(t, env.Clients, argo("workflowtemplates"), ns, strings.ReplaceAll(`
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: TEMPLATE}
spec: {entrypoint: main, templates: [{name: main, container: {image: alpine}}]}`, "TEMPLATE", name))
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
				objecttest.Create(t, env.Clients, argo("clusterworkflowtemplates"), "", strings.ReplaceAll(`
apiVersion: argoproj.io/v1alpha1
kind: ClusterWorkflowTemplate
metadata: {name: TEMPLATE}
spec: {entrypoint: main, templates: [{name: main, container: {image: alpine}}]}`, "TEMPLATE", name))
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
				objecttest.Create(t, env.Clients, argo("cronworkflows"), ns, strings.ReplaceAll(`
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: TEMPLATE}
spec:
  schedule: "* * * * *"
  workflowMetadata: {labels: {from: cron}}
  workflowSpec:
    entrypoint: main
    arguments: {parameters: [{name: message, value: cron}]}
    templates: [{name: main, container: {image: alpine}}]`, "TEMPLATE", name))
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
			s := sensortest.LoadSensor(t, "submit-from", ns, map[string]string{"KIND": tc.kind})
			if err := sensortest.Handle(t, env.Clients, s, `{"template":"`+name+`"}`); err != nil {
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
		s := sensortest.LoadSensor(t, "submit-from", ns, map[string]string{"KIND": "WorkflowTemplate"})
		err := sensortest.Handle(t, env.Clients, s, `{"template":"absent"}`)
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
				objecttest.Create(t, env.Clients, workflows, ns, tc.workflow)
			}
			s := sensortest.LoadSensor(t, "operation", ns, map[string]string{"OPERATION": tc.op})
			err := sensortest.Handle(t, env.Clients, s, `{"workflow":"wf"}`)
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

func TestNewProblems(t *testing.T) {
	t.Parallel()
	const src = "source: {resource: {apiVersion: argoproj.io/v1alpha1, kind: Workflow, metadata: {name: wf}}}\n"
	objecttest.RunProblems(t, v1alpha1.TriggerTypeArgoWorkflow, []objecttest.Problem{
		{Name: "no cluster", NoKube: true, Spec: src, WantMsg: "needs a Kubernetes cluster: run flint dev with --kubeconfig"},
		{Name: "retry", Spec: src + "operation: retry", WantPath: "operation", WantMsg: "not runnable yet: operation retry"},
		{Name: "unknown operation", Spec: src + "operation: delete", WantPath: "operation", WantMsg: "invalid value"},
		{Name: "git source", Spec: "source: {git: {url: 'https://example.com/r.git', cloneDirectory: /tmp/r, filePath: wf.yaml}}",
			WantPath: "source.git", WantMsg: "not runnable yet: git sources"},
		{Name: "an unknown arg", Spec: src + `args: ["--name", "x", "--watch"]`, WantPath: "args[2]", WantMsg: `not runnable yet: argo CLI flag "--watch"`},
		{Name: "a parameter without a value", Spec: src + `args: ["-p", "message"]`, WantPath: "args[0]", WantMsg: "expected NAME=VALUE"},
		{Name: "a flag without its value", Spec: src + `args: ["--entrypoint"]`, WantPath: "args[0]", WantMsg: "needs a value"},
		{Name: "args on suspend", Spec: src + "operation: suspend\nargs: [\"--name=x\"]", WantPath: "args[0]", WantMsg: "suspend takes no args"},
	})
}

// TestExamples loads sensors written as Argo's examples/sensors are: those
// flint can run build as `flint dev` builds them, with a cluster, and are
// refused at their trigger without one; the others are refused naming the
// field.
func TestExamples(t *testing.T) {
	t.Parallel()
	sensortest.RunExamples(t, v1alpha1.TriggerTypeArgoWorkflow, map[string]string{
		"trigger-workflow-retry.yaml": "spec.triggers[0].template.argoWorkflow.operation",
	})
}
