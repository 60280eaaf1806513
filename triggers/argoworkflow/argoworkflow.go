// Package argoworkflow implements Argo Events' `argoWorkflow` trigger on the
// Kubernetes API server, without the argo CLI: every operation is done the
// way the Argo Workflows CLI and controller read the Workflow objects.
//
//   - submit creates the `argoproj.io/v1alpha1` Workflow of the `source`
//     (generateName honoured) with the trigger's `parameters` applied to it.
//   - submit-from creates a Workflow from the WorkflowTemplate,
//     ClusterWorkflowTemplate or CronWorkflow the source names, as
//     `argo submit --from` does: a workflowTemplateRef (with clusterScope)
//     and the template label, or the CronWorkflow's workflowSpec, its
//     workflowMetadata and the cron-workflow label.
//   - resubmit creates a new Workflow from the spec of the one the source
//     names, as `argo resubmit` does.
//   - suspend sets spec.suspend; resume clears it and completes the active
//     suspend nodes; terminate and stop set spec.shutdown.
//   - retry needs the Argo Workflows server, so it is refused at New.
//
// `args` are read as the argo CLI reads them for the flags with a meaning on
// the object (--name, --generate-name, -p/--parameter, -l/--labels,
// --serviceaccount, --entrypoint); any other is refused naming `args[i]`.
// The Workflow goes to the source object's namespace, else the sensor's,
// else "default". After a create or a change, `policy.k8s` waits for its
// labels on the Workflow.
package argoworkflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/registry"
	"github.com/flintevents/flint/triggers"
	"github.com/flintevents/flint/triggers/k8s/object"
)

// Argo Workflows' group version, kinds and labels.
const (
	APIVersion                   = "argoproj.io/v1alpha1"
	KindWorkflow                 = "Workflow"
	KindWorkflowTemplate         = v1alpha1.KindWorkflowTemplate
	KindClusterWorkflowTemplate  = v1alpha1.KindClusterWorkflowTemplate
	KindCronWorkflow             = v1alpha1.KindCronWorkflow
	LabelWorkflowTemplate        = "workflows.argoproj.io/workflow-template"
	LabelClusterWorkflowTemplate = "workflows.argoproj.io/cluster-workflow-template"
	LabelCronWorkflow            = "workflows.argoproj.io/cron-workflow"
	LabelResubmittedFrom         = "workflows.argoproj.io/resubmitted-from-workflow"
	AnnotationScheduledTime      = "workflows.argoproj.io/scheduled-time"
)

func init() {
	triggers.Register(v1alpha1.TriggerTypeArgoWorkflow, New, facts()...)
}

// Trigger performs one Workflow operation per firing.
type Trigger struct {
	object.Base
}

// New builds the trigger over deps.Kube; it fails when the host has no
// cluster, for sources flint cannot read, for `retry`, and for `args` it
// cannot map.
func New(spec *v1alpha1.ArgoWorkflowTrigger, deps triggers.Deps) (triggers.Trigger[v1alpha1.ArgoWorkflowTrigger], error) {
	errs := object.CheckDeps(deps, spec.Source).Also(checkOperation(spec.Operation))
	if _, err := parseArgs(operation(spec.Operation), spec.Args); err != nil {
		errs = errs.Also(err)
	}
	if errs != nil {
		return nil, errs
	}
	return &Trigger{Base: object.NewBase(deps, v1alpha1.TriggerTypeArgoWorkflow)}, nil
}

func operation(op v1alpha1.ArgoWorkflowOperation) v1alpha1.ArgoWorkflowOperation {
	if op == "" {
		return v1alpha1.Submit
	}
	return op
}

func checkOperation(op v1alpha1.ArgoWorkflowOperation) *apis.FieldError {
	switch operation(op) {
	case v1alpha1.Submit, v1alpha1.SubmitFrom, v1alpha1.Resubmit, v1alpha1.Suspend, v1alpha1.Resume,
		v1alpha1.Terminate, v1alpha1.Stop:
		return nil
	case v1alpha1.Retry:
		return registry.NotRunnable("operation retry, which needs the Argo Workflows server", "operation")
	default:
		return apis.ErrInvalidValue(op, "operation",
			"expected submit, submit-from, resubmit, suspend, resume, terminate or stop")
	}
}

// Fire reads the source object, applies the parameters and performs the
// operation; Result.Object is the Workflow created or changed.
func (t *Trigger) Fire(ctx context.Context, spec *v1alpha1.ArgoWorkflowTrigger, in triggers.Firing) (triggers.Result, error) {
	op := operation(spec.Operation)
	if err := checkOperation(op); err != nil {
		return triggers.Result{}, fmt.Errorf("argoWorkflow: %w", err)
	}
	opts, ferr := parseArgs(op, spec.Args)
	if ferr != nil {
		return triggers.Result{}, fmt.Errorf("argoWorkflow: %w", ferr)
	}
	doc, err := t.Load(ctx, spec.Source, in)
	if err != nil {
		return triggers.Result{}, err
	}
	src, err := t.Object(doc, in)
	if err != nil {
		return triggers.Result{}, err
	}
	ns := src.GetNamespace()
	if ns == "" {
		ns = object.Namespace(in.Namespace)
	}
	workflows, err := t.Client.For(newObject(KindWorkflow, ns), ns)
	if err != nil {
		return triggers.Result{}, fmt.Errorf("argoWorkflow: %w", err)
	}

	var out *unstructured.Unstructured
	switch op {
	case v1alpha1.Submit:
		out, err = t.submit(ctx, workflows, src, ns, opts, in)
	case v1alpha1.SubmitFrom:
		out, err = t.submitFrom(ctx, src, ns, opts, in, workflows)
	case v1alpha1.Resubmit:
		out, err = t.resubmit(ctx, workflows, src, opts, in)
	default:
		out, err = t.change(ctx, workflows, op, src)
	}
	if err != nil {
		return triggers.Result{}, fmt.Errorf("argoWorkflow: %s: %w", op, err)
	}
	if ce := t.Logger.Check(zap.DebugLevel, "argoWorkflow trigger acted"); ce != nil {
		ce.Write(zap.String("sensor", in.Sensor), zap.String("trigger", in.Trigger), zap.String("operation", string(op)),
			zap.String("workflow", ns+"/"+out.GetName()))
	}
	out, err = object.ApplyPolicy(ctx, workflows, out, in.Policy)
	return triggers.Result{Object: out.Object}, err
}

// create applies the args and the Argo Events labels and creates wf.
func (t *Trigger) create(ctx context.Context, workflows dynamic.ResourceInterface, wf *unstructured.Unstructured, opts submitOptions, in triggers.Firing) (*unstructured.Unstructured, error) {
	if err := opts.apply(wf); err != nil {
		return nil, err
	}
	if wf.GetName() == "" && wf.GetGenerateName() == "" {
		return nil, errors.New("the workflow needs metadata.name or metadata.generateName")
	}
	object.SetCreatedLabels(wf, in.Sensor, in.Trigger, t.Now())
	out, err := workflows.Create(ctx, wf, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating the workflow: %w", err)
	}
	return out, nil
}

func (t *Trigger) submit(ctx context.Context, workflows dynamic.ResourceInterface, src *unstructured.Unstructured, ns string, opts submitOptions, in triggers.Firing) (*unstructured.Unstructured, error) {
	if src.GetKind() != KindWorkflow || src.GetAPIVersion() != APIVersion {
		return nil, fmt.Errorf("the source is a %s %s, want an %s %s", src.GetAPIVersion(), src.GetKind(), APIVersion, KindWorkflow)
	}
	src.SetNamespace(ns)
	return t.create(ctx, workflows, src, opts, in)
}

// submitFrom builds the Workflow `argo submit --from kind/name` builds.
func (t *Trigger) submitFrom(ctx context.Context, src *unstructured.Unstructured, ns string, opts submitOptions, in triggers.Firing, workflows dynamic.ResourceInterface) (*unstructured.Unstructured, error) {
	name := src.GetName()
	if name == "" {
		return nil, errors.New("the source object needs metadata.name: the template to submit from")
	}
	kind := v1alpha1.SubmitFromKind(src.GetKind())
	if kind == "" {
		return nil, fmt.Errorf("cannot submit from a %s: want a %s, %s or %s", src.GetKind(),
			KindWorkflowTemplate, KindClusterWorkflowTemplate, KindCronWorkflow)
	}
	refs, err := t.Client.For(newObject(kind, ns), ns)
	if err != nil {
		return nil, err
	}
	tmpl, err := refs.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", kind, name, err)
	}
	wf := newObject(KindWorkflow, ns)
	wf.SetGenerateName(name + "-")
	switch kind {
	case KindWorkflowTemplate, KindClusterWorkflowTemplate:
		label := LabelWorkflowTemplate
		if kind == KindClusterWorkflowTemplate {
			label = LabelClusterWorkflowTemplate
		}
		wf.SetLabels(map[string]string{label: name})
		wf.Object["spec"] = map[string]any{"workflowTemplateRef": map[string]any{
			"name": name, "clusterScope": kind == KindClusterWorkflowTemplate}}
	case KindCronWorkflow:
		spec, _, _ := unstructured.NestedMap(tmpl.Object, "spec", "workflowSpec")
		if spec == nil {
			spec = map[string]any{}
		}
		wf.Object["spec"] = spec
		labels, _, _ := unstructured.NestedStringMap(tmpl.Object, "spec", "workflowMetadata", "labels")
		if labels == nil {
			labels = map[string]string{}
		}
		labels[LabelCronWorkflow] = name
		wf.SetLabels(labels)
		annotations, _, _ := unstructured.NestedStringMap(tmpl.Object, "spec", "workflowMetadata", "annotations")
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[AnnotationScheduledTime] = t.Now().UTC().Format(time.RFC3339)
		wf.SetAnnotations(annotations)
		wf.SetOwnerReferences([]metav1.OwnerReference{*metav1.NewControllerRef(tmpl, tmpl.GroupVersionKind())})
	}
	return t.create(ctx, workflows, wf, opts, in)
}

// newObject returns an empty Argo Workflows object of kind in ns.
func newObject(kind, ns string) *unstructured.Unstructured {
	obj := &unstructured.Unstructured{Object: map[string]any{}}
	obj.SetAPIVersion(APIVersion)
	obj.SetKind(kind)
	obj.SetNamespace(ns)
	return obj
}

// resubmittedDropLabels are the labels a resubmitted Workflow does not keep.
var resubmittedDropLabels = map[string]bool{
	"workflows.argoproj.io/completed":                  true,
	"workflows.argoproj.io/phase":                      true,
	"workflows.argoproj.io/workflow-archiving-status":  true,
	"workflows.argoproj.io/creator":                    true,
	"workflows.argoproj.io/creator-email":              true,
	"workflows.argoproj.io/creator-preferred-username": true,
	object.LabelActionTimestamp:                        true,
}

// resubmit creates a new Workflow from the spec of the named one, as
// `argo resubmit` does: same generateName (or the old name and "-"), labels
// and annotations, and a label naming the old Workflow.
func (t *Trigger) resubmit(ctx context.Context, workflows dynamic.ResourceInterface, src *unstructured.Unstructured, opts submitOptions, in triggers.Firing) (*unstructured.Unstructured, error) {
	old, err := t.get(ctx, workflows, src)
	if err != nil {
		return nil, err
	}
	wf := newObject(KindWorkflow, old.GetNamespace())
	if g := old.GetGenerateName(); g != "" {
		wf.SetGenerateName(g)
	} else {
		wf.SetGenerateName(old.GetName() + "-")
	}
	labels := map[string]string{}
	for k, v := range old.GetLabels() {
		if !resubmittedDropLabels[k] {
			labels[k] = v
		}
	}
	labels[LabelResubmittedFrom] = old.GetName()
	wf.SetLabels(labels)
	wf.SetAnnotations(old.GetAnnotations())
	wf.SetOwnerReferences(old.GetOwnerReferences())
	spec, _, _ := unstructured.NestedMap(old.Object, "spec")
	if spec == nil {
		spec = map[string]any{}
	}
	delete(spec, "shutdown")
	wf.Object["spec"] = spec
	return t.create(ctx, workflows, wf, opts, in)
}

func (t *Trigger) get(ctx context.Context, workflows dynamic.ResourceInterface, src *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if src.GetName() == "" {
		return nil, errors.New("the source object needs metadata.name: the workflow to act on")
	}
	wf, err := workflows.Get(ctx, src.GetName(), metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading workflow %s: %w", src.GetName(), err)
	}
	return wf, nil
}

// completedPhases are the phases of a Workflow that has ended.
var completedPhases = map[string]bool{"Succeeded": true, "Failed": true, "Error": true}

// change suspends, resumes, terminates or stops the named Workflow with a
// merge patch conditioned on the version read.
func (t *Trigger) change(ctx context.Context, workflows dynamic.ResourceInterface, op v1alpha1.ArgoWorkflowOperation, src *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	wf, err := t.get(ctx, workflows, src)
	if err != nil {
		return nil, err
	}
	phase, _, _ := unstructured.NestedString(wf.Object, "status", "phase")
	if op != v1alpha1.Resume && completedPhases[phase] {
		return nil, fmt.Errorf("workflow %s has completed (%s)", wf.GetName(), phase)
	}
	patch := map[string]any{"metadata": map[string]any{"resourceVersion": wf.GetResourceVersion()}}
	switch op {
	case v1alpha1.Suspend:
		patch["spec"] = map[string]any{"suspend": true}
	case v1alpha1.Terminate:
		patch["spec"] = map[string]any{"shutdown": "Terminate"}
	case v1alpha1.Stop:
		patch["spec"] = map[string]any{"shutdown": "Stop"}
	case v1alpha1.Resume:
		patch["spec"] = map[string]any{"suspend": nil}
		if nodes := t.resumedNodes(wf); len(nodes) > 0 {
			patch["status"] = map[string]any{"nodes": nodes}
		}
	}
	body, err := json.Marshal(patch)
	if err != nil {
		return nil, fmt.Errorf("encoding the patch: %w", err)
	}
	out, err := workflows.Patch(ctx, wf.GetName(), k8stypes.MergePatchType, body, metav1.PatchOptions{})
	if err != nil {
		return nil, fmt.Errorf("patching workflow %s: %w", wf.GetName(), err)
	}
	return out, nil
}

// resumedNodes marks the active suspend nodes of wf succeeded, as
// `argo resume` does, as a merge patch of status.nodes.
func (t *Trigger) resumedNodes(wf *unstructured.Unstructured) map[string]any {
	nodes, _, _ := unstructured.NestedMap(wf.Object, "status", "nodes")
	out := map[string]any{}
	for id, n := range nodes {
		node, ok := n.(map[string]any)
		if !ok || node["type"] != "Suspend" || node["phase"] != "Running" {
			continue
		}
		out[id] = map[string]any{"phase": "Succeeded", "finishedAt": t.Now().UTC().Format(time.RFC3339)}
	}
	return out
}
