package argoworkflow

import (
	"fmt"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
	"github.com/flintevents/flint/triggers/k8s/object"
)

// argoGroup is Argo Workflows' API group.
const argoGroup = "argoproj.io"

// facts are what hosts read of the argoWorkflow type without building it:
// it acts on a cluster, its `parameters` apply to the Workflow at
// source.resource, one firing takes its calls and any policy.k8s wait, it
// needs the rights of Access, and a generated function test cannot stand in
// for a cluster.
func facts() []triggers.Option {
	return []triggers.Option{
		triggers.NeedsCluster(object.Connect),
		triggers.ResourceParameters("source.resource"),
		triggers.AttemptTimeout(func(_ *v1alpha1.ArgoWorkflowTrigger, t *v1alpha1.Trigger) triggers.Attempt {
			return object.AttemptOf(t, v1alpha1.TriggerTypeArgoWorkflow)
		}),
		triggers.ClusterAccess(Access),
		triggers.FiresInTest(triggers.TestNotFired),
	}
}

// Access is the rights of an argoWorkflow trigger: the calls its operation
// makes on Workflows (and on the template a submit-from reads), in the
// source object's namespace, else the sensor's.
func Access(spec *v1alpha1.ArgoWorkflowTrigger, req triggers.AccessRequest) triggers.Rights {
	t := req.Trigger
	op := spec.Operation
	if op == "" {
		op = v1alpha1.Submit
	}
	label := fmt.Sprintf("trigger %s (argoWorkflow %s)", t.Template.Name, op)
	tg := object.TargetOf(req, v1alpha1.TriggerTypeArgoWorkflow, spec.Source, spec.Parameters, label)
	if tg.OperationAt != "" {
		tg.Unknownf("%s: %s sets the operation when it fires, so no rights are written for it", label, tg.OperationAt)
		return tg.Rights
	}
	var verbs []string
	switch op {
	case v1alpha1.Submit, v1alpha1.SubmitFrom:
		verbs = []string{"create"}
	case v1alpha1.Resubmit:
		verbs = []string{"get", "create"} // reads the old Workflow, creates a new one
	case v1alpha1.Suspend, v1alpha1.Resume, v1alpha1.Terminate, v1alpha1.Stop:
		verbs = []string{"get", "patch"} // reads the Workflow, then a merge patch on its version
	default:
		tg.Unknownf("%s: an operation flint does not run, so no rights are written for it", label)
		return tg.Rights
	}
	if object.WaitsForLabels(t) {
		verbs = append(verbs, "get")
	}
	ns, why := req.Namespace, ""
	if tg.Obj != nil && tg.Obj.GetNamespace() != "" {
		ns = tg.Obj.GetNamespace()
	}
	if tg.Obj == nil {
		tg.Unknownf("%s: its source is known only when it fires (%s); the rights are written for namespace %s, "+
			"where the Workflow goes unless the source names another", label, tg.SourceAt, ns)
	}
	if tg.NamespaceAt != "" {
		ns, why = triggers.AllNamespaces, fmt.Sprintf("%s writes metadata.namespace, so the namespace is known only when it fires", tg.NamespaceAt)
	}
	grant := func(ns, resource string, verbs []string, why string) {
		tg.Grant(triggers.Grant{Namespace: ns, Group: argoGroup, Resource: resource, Verbs: verbs, Label: label, Why: why})
	}
	grant(ns, "workflows", verbs, why)
	if op != v1alpha1.SubmitFrom {
		return tg.Rights
	}
	switch {
	case tg.Obj == nil:
		tg.Unknownf("%s: the template it submits from is known only when it fires, so no rights are written to read it", label)
		return tg.Rights
	case tg.KindAt != "":
		tg.Unknownf("%s: %s sets the kind of the template it submits from when it fires, so no rights are written to read it", label, tg.KindAt)
		return tg.Rights
	}
	switch v1alpha1.SubmitFromKind(tg.Obj.GetKind()) {
	case v1alpha1.KindWorkflowTemplate:
		grant(ns, "workflowtemplates", []string{"get"}, why)
	case v1alpha1.KindClusterWorkflowTemplate:
		grant(triggers.AllNamespaces, "clusterworkflowtemplates", []string{"get"}, "clusterworkflowtemplates.argoproj.io are cluster-scoped")
	case v1alpha1.KindCronWorkflow:
		grant(ns, "cronworkflows", []string{"get"}, why)
		// The Workflow is owned by the CronWorkflow with blockOwnerDeletion,
		// which clusters enforcing owner references allow only to this right.
		grant(ns, "cronworkflows/finalizers", []string{"update"}, why)
	default:
		tg.Unknownf("%s: a %s is no template to submit from, so no rights are written to read it", label, tg.Obj.GetKind())
	}
	return tg.Rights
}
