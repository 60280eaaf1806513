package k8s

import (
	"fmt"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
	"github.com/flintevents/flint/triggers/k8s/object"
)

// facts are what hosts read of the k8s type without building it: it acts
// on a cluster, its `parameters` apply to the object at source.resource,
// one firing takes its calls and any policy.k8s wait, it needs the rights
// of Access, and a generated function test cannot stand in for a cluster.
func facts() []triggers.Option {
	return []triggers.Option{
		triggers.NeedsCluster(object.Connect),
		triggers.ResourceParameters("source.resource"),
		triggers.AttemptTimeout(func(_ *v1alpha1.StandardK8STrigger, t *v1alpha1.Trigger) triggers.Attempt {
			return object.AttemptOf(t, v1alpha1.TriggerTypeK8s)
		}),
		triggers.ClusterAccess(Access),
		triggers.FiresInTest(triggers.TestNotFired),
	}
}

// Access is the rights of a k8s trigger: the verbs its operation calls on
// the kind of its object, in the object's namespace (else the sensor's).
func Access(spec *v1alpha1.StandardK8STrigger, req triggers.AccessRequest) triggers.Rights {
	t := req.Trigger
	op := spec.Operation
	if op == "" {
		op = v1alpha1.Create
	}
	label := fmt.Sprintf("trigger %s (k8s %s)", t.Template.Name, op)
	tg := object.TargetOf(req, v1alpha1.TriggerTypeK8s, spec.Source, spec.Parameters, label)
	switch {
	case tg.OperationAt != "":
		tg.Unknownf("%s: %s sets the operation when it fires, so no rights are written for its object", label, tg.OperationAt)
		return tg.Rights
	case tg.Obj == nil:
		tg.Unknownf("%s: its object is known only when it fires (%s), so no rights are written for it", label, tg.SourceAt)
		return tg.Rights
	case tg.KindAt != "":
		tg.Unknownf("%s: %s sets the object's kind when it fires, so no rights are written for it", label, tg.KindAt)
		return tg.Rights
	}
	var verbs []string
	switch op {
	case v1alpha1.Create:
		verbs = []string{"create"}
	case v1alpha1.Update:
		// The live object is read first, and created when there is none.
		verbs = []string{"get", "update", "create"}
	case v1alpha1.Patch:
		verbs = []string{"get", "patch", "create"}
	case v1alpha1.Delete:
		verbs = []string{"delete"}
	default:
		tg.Unknownf("%s: unknown operation, so no rights are written for it", label)
		return tg.Rights
	}
	if op != v1alpha1.Delete && object.WaitsForLabels(t) {
		verbs = append(verbs, "get") // policy.k8s reads the object until it has the labels
	}
	gk := tg.Obj.GroupVersionKind().GroupKind()
	resource, clusterScoped := req.Resource(gk.Group, gk.Kind)
	ns, why := tg.Obj.GetNamespace(), ""
	if ns == "" {
		ns = req.Namespace
	}
	switch {
	case clusterScoped:
		ns, why = triggers.AllNamespaces, fmt.Sprintf("%s are cluster-scoped", qualified(gk.Group, resource))
	case tg.NamespaceAt != "":
		ns, why = triggers.AllNamespaces, fmt.Sprintf("%s writes metadata.namespace, so the namespace is known only when it fires", tg.NamespaceAt)
	}
	tg.Grant(triggers.Grant{Namespace: ns, Group: gk.Group, Resource: resource, Verbs: verbs, Label: label, Why: why})
	return tg.Rights
}

// qualified is resource.group as kubectl names it ("configmaps" for the core group).
func qualified(group, resource string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}
