package compile

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// argoGroup is Argo Workflows' API group.
const argoGroup = "argoproj.io"

// rule is one resource a sensor's triggers act on: a group, a resource
// ("<resource>/<subresource>" for a subresource) and, when only one object
// is read, its name.
type rule struct {
	group, resource, name string
}

// scopeAccess is what a sensor's triggers do in one namespace, or in every
// namespace and on cluster-scoped objects.
type scopeAccess struct {
	verbs map[rule]map[string]bool
	// reasons say, one line each, which trigger uses what and, for the
	// cluster scope, why a namespace does not do.
	reasons []string
}

// sensorAccess is everything the k8s and argoWorkflow triggers of one
// Sensor do on the cluster, as far as the Sensor tells before they fire.
type sensorAccess struct {
	// namespace is the sensor's: where objects go that name none.
	namespace string
	// scopes maps a namespace, or "" for the cluster, to its access.
	scopes map[string]*scopeAccess
	// unknown lists, one line each, what only a firing tells, so that no
	// rights are written for it.
	unknown []string
}

// clusterScope is the scopes key of rights in every namespace.
const clusterScope = ""

// accessOf reads what the triggers of s (dlqTriggers included) do on the
// cluster when s runs in namespace ns.
func accessOf(s *v1alpha1.Sensor, ns string) *sensorAccess {
	a := &sensorAccess{namespace: ns, scopes: map[string]*scopeAccess{}}
	for i := range s.Spec.Triggers {
		t := &s.Spec.Triggers[i]
		path := fmt.Sprintf("spec.triggers[%d]", i)
		a.trigger(t, path)
		if t.DlqTrigger != nil {
			a.trigger(t.DlqTrigger, path+".dlqTrigger")
		}
	}
	return a
}

// namespaces lists the namespaces with rights, sorted, the cluster scope ("") first.
func (a *sensorAccess) namespaces() []string {
	out := make([]string, 0, len(a.scopes))
	for ns := range a.scopes {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

func (a *sensorAccess) trigger(t *v1alpha1.Trigger, path string) {
	if t.Template == nil {
		return
	}
	switch {
	case t.Template.K8s != nil:
		a.k8s(t, path)
	case t.Template.ArgoWorkflow != nil:
		a.argoWorkflow(t, path)
	}
}

// k8s reads the rights of a k8s trigger: the verbs its operation calls on the
// kind of its object, in the object's namespace (else the sensor's).
func (a *sensorAccess) k8s(t *v1alpha1.Trigger, path string) {
	spec := t.Template.K8s
	key := v1alpha1.TriggerTypeK8s
	op := spec.Operation
	if op == "" {
		op = v1alpha1.Create
	}
	label := fmt.Sprintf("trigger %s (k8s %s)", t.Template.Name, op)
	tg := a.target(t, key, spec.Source, spec.Parameters, path, label)
	switch {
	case tg.operationAt != "":
		a.unknownf("%s: %s sets the operation when it fires, so no rights are written for its object", label, tg.operationAt)
		return
	case tg.obj == nil:
		a.unknownf("%s: its object is known only when it fires (%s), so no rights are written for it", label, tg.sourceAt)
		return
	case tg.kindAt != "":
		a.unknownf("%s: %s sets the object's kind when it fires, so no rights are written for it", label, tg.kindAt)
		return
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
		a.unknownf("%s: unknown operation, so no rights are written for it", label)
		return
	}
	if op != v1alpha1.Delete && waitsForLabels(t) {
		verbs = append(verbs, "get") // policy.k8s reads the object until it has the labels
	}
	gk := tg.obj.GroupVersionKind().GroupKind()
	resource, clusterScoped := resourceOf(gk)
	ns, why := tg.obj.GetNamespace(), ""
	if ns == "" {
		ns = a.namespace
	}
	switch {
	case clusterScoped:
		ns, why = clusterScope, fmt.Sprintf("%s are cluster-scoped", qualified(gk.Group, resource))
	case tg.namespaceAt != "":
		ns, why = clusterScope, fmt.Sprintf("%s writes metadata.namespace, so the namespace is known only when it fires", tg.namespaceAt)
	}
	a.grant(ns, rule{group: gk.Group, resource: resource}, verbs, label, why)
}

// argoWorkflow reads the rights of an argoWorkflow trigger: the calls its
// operation makes on Workflows (and on the template a submit-from reads),
// in the source object's namespace, else the sensor's.
func (a *sensorAccess) argoWorkflow(t *v1alpha1.Trigger, path string) {
	spec := t.Template.ArgoWorkflow
	key := v1alpha1.TriggerTypeArgoWorkflow
	op := spec.Operation
	if op == "" {
		op = v1alpha1.Submit
	}
	label := fmt.Sprintf("trigger %s (argoWorkflow %s)", t.Template.Name, op)
	tg := a.target(t, key, spec.Source, spec.Parameters, path, label)
	if tg.operationAt != "" {
		a.unknownf("%s: %s sets the operation when it fires, so no rights are written for it", label, tg.operationAt)
		return
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
		a.unknownf("%s: an operation flint does not run, so no rights are written for it", label)
		return
	}
	if waitsForLabels(t) {
		verbs = append(verbs, "get")
	}
	ns, why := a.namespace, ""
	if tg.obj != nil && tg.obj.GetNamespace() != "" {
		ns = tg.obj.GetNamespace()
	}
	if tg.obj == nil {
		a.unknownf("%s: its source is known only when it fires (%s); the rights are written for namespace %s, "+
			"where the Workflow goes unless the source names another", label, tg.sourceAt, ns)
	}
	if tg.namespaceAt != "" {
		ns, why = clusterScope, fmt.Sprintf("%s writes metadata.namespace, so the namespace is known only when it fires", tg.namespaceAt)
	}
	a.grant(ns, rule{group: argoGroup, resource: "workflows"}, verbs, label, why)
	if op != v1alpha1.SubmitFrom {
		return
	}
	switch {
	case tg.obj == nil:
		a.unknownf("%s: the template it submits from is known only when it fires, so no rights are written to read it", label)
		return
	case tg.kindAt != "":
		a.unknownf("%s: %s sets the kind of the template it submits from when it fires, so no rights are written to read it", label, tg.kindAt)
		return
	}
	switch v1alpha1.SubmitFromKind(tg.obj.GetKind()) {
	case v1alpha1.KindWorkflowTemplate:
		a.grant(ns, rule{group: argoGroup, resource: "workflowtemplates"}, []string{"get"}, label, why)
	case v1alpha1.KindClusterWorkflowTemplate:
		a.grant(clusterScope, rule{group: argoGroup, resource: "clusterworkflowtemplates"}, []string{"get"}, label,
			"clusterworkflowtemplates.argoproj.io are cluster-scoped")
	case v1alpha1.KindCronWorkflow:
		a.grant(ns, rule{group: argoGroup, resource: "cronworkflows"}, []string{"get"}, label, why)
		// The Workflow is owned by the CronWorkflow with blockOwnerDeletion,
		// which clusters enforcing owner references allow only to this right.
		a.grant(ns, rule{group: argoGroup, resource: "cronworkflows/finalizers"}, []string{"update"}, label, why)
	default:
		a.unknownf("%s: a %s is no template to submit from, so no rights are written to read it", label, tg.obj.GetKind())
	}
}

// target is what a trigger acts on, as far as its Sensor tells.
type target struct {
	// obj is the source object; nil when the source is read when the trigger fires.
	obj *unstructured.Unstructured
	// sourceAt names where the object is read from when obj is nil.
	sourceAt string
	// namespaceAt, kindAt and operationAt name the first parameter that sets
	// the object's namespace, its kind, or the operation when the trigger fires.
	namespaceAt, kindAt, operationAt string
}

// target reads the source object of a trigger of type key at path and the
// parameters that change it when it fires: the type's own (dest relative to
// the object) and the trigger's (dest relative to the template). A source
// read from a ConfigMap is a right of its own, in the sensor's namespace.
func (a *sensorAccess) target(t *v1alpha1.Trigger, key string, src *v1alpha1.ArtifactLocation, params []v1alpha1.TriggerParameter, path, label string) target {
	var tg target
	at := path + ".template." + key + ".source"
	switch {
	case src == nil:
		tg.sourceAt = at
	case src.Resource != nil:
		tg.obj, tg.sourceAt = decodeObject(src.Resource.Value, true), at+".resource"
	case src.Inline != nil:
		tg.obj, tg.sourceAt = decodeObject([]byte(*src.Inline), false), at+".inline"
	case src.Configmap != nil:
		tg.sourceAt = at + ".configmap"
		a.grant(a.namespace, rule{resource: "configmaps", name: src.Configmap.Name}, []string{"get"},
			label+" reads its source", "")
	case src.URL != nil:
		tg.sourceAt = at + ".url"
	case src.File != nil:
		tg.sourceAt = at + ".file"
	default:
		tg.sourceAt = at
	}
	for j, p := range params {
		tg.objectParameter(p.Dest, fmt.Sprintf("%s.template.%s.parameters[%d].dest", path, key, j))
	}
	for j, p := range t.Parameters {
		where := fmt.Sprintf("%s.parameters[%d].dest", path, j)
		d := p.Dest
		if writes(d, key+".operation") && tg.operationAt == "" {
			tg.operationAt = where
		}
		switch {
		case strings.HasPrefix(d, key+".source.resource."):
			tg.objectParameter(strings.TrimPrefix(d, key+".source.resource."), where)
		case writes(d, key+".source.resource"), strings.HasPrefix(d, key+".source."):
			// The source itself changes: what it holds is known only when the trigger fires.
			tg.obj, tg.sourceAt = nil, where
		}
	}
	return tg
}

// objectParameter records where a parameter writing dest of the object
// changes its namespace or kind.
func (tg *target) objectParameter(dest, where string) {
	if writes(dest, "metadata.namespace") && tg.namespaceAt == "" {
		tg.namespaceAt = where
	}
	if (writes(dest, "kind") || writes(dest, "apiVersion")) && tg.kindAt == "" {
		tg.kindAt = where
	}
}

// writes says whether a parameter with destination dest (an sjson path)
// may change the value at field: the field itself, or an object holding it.
func writes(dest, field string) bool {
	return dest == "" || dest == field || strings.HasPrefix(field, dest+".")
}

// decodeObject decodes a source object, JSON or (an inline string) YAML;
// nil when it is no object with an apiVersion and a kind.
func decodeObject(raw []byte, isJSON bool) *unstructured.Unstructured {
	if !isJSON {
		j, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil
		}
		raw = j
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil
	}
	obj := &unstructured.Unstructured{Object: m}
	if _, err := schema.ParseGroupVersion(obj.GetAPIVersion()); err != nil || obj.GetAPIVersion() == "" || obj.GetKind() == "" {
		return nil
	}
	return obj
}

// waitsForLabels says whether the trigger's policy.k8s reads the object
// again until it has labels.
func waitsForLabels(t *v1alpha1.Trigger) bool {
	return t.Policy != nil && t.Policy.K8s != nil && len(t.Policy.K8s.Labels) > 0
}

// grant records verbs on r in namespace ns (clusterScope: every namespace),
// used by label; why says why the cluster scope, when it is.
func (a *sensorAccess) grant(ns string, r rule, verbs []string, label, why string) {
	s := a.scopes[ns]
	if s == nil {
		s = &scopeAccess{verbs: map[rule]map[string]bool{}}
		a.scopes[ns] = s
	}
	if s.verbs[r] == nil {
		s.verbs[r] = map[string]bool{}
	}
	for _, v := range verbs {
		s.verbs[r][v] = true
	}
	what := qualified(r.group, r.resource)
	if r.name != "" {
		what += " " + r.name
	}
	line := fmt.Sprintf("%s: %s %s", label, strings.Join(sortedVerbs(verbs), ", "), what)
	if why != "" {
		line += ", as " + why
	}
	for _, l := range s.reasons {
		if l == line {
			return
		}
	}
	s.reasons = append(s.reasons, line)
}

func (a *sensorAccess) unknownf(format string, args ...any) {
	a.unknown = append(a.unknown, fmt.Sprintf(format, args...))
}

// qualified is resource.group as kubectl names it ("configmaps" for the core group).
func qualified(group, resource string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

// sortedVerbs lists verbs once each, in a fixed order.
func sortedVerbs(verbs []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(verbs))
	for _, v := range verbs {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}
