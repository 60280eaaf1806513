package compile

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

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

// sensorAccess is everything the triggers of one Sensor do on the cluster
// (those whose type declares triggers.ClusterAccess), as far as the Sensor
// tells before they fire.
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
const clusterScope = triggers.AllNamespaces

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

// trigger adds the rights of one trigger, which its type's registration
// (triggers.ClusterAccess) computes; a type that declares none acts on no cluster.
func (a *sensorAccess) trigger(t *v1alpha1.Trigger, path string) {
	if t.Template == nil {
		return
	}
	typ, ok := triggers.Lookup(t.Template.TypeKey())
	if !ok || typ.Access == nil {
		return
	}
	r := typ.Access(triggers.AccessRequest{Trigger: t, Path: path, Namespace: a.namespace, Resource: resourceOfKind})
	for _, g := range r.Grants {
		a.grant(g.Namespace, rule{group: g.Group, resource: g.Resource, name: g.Name}, g.Verbs, g.Label, g.Why)
	}
	a.unknown = append(a.unknown, r.Unknown...)
}

// resourceOfKind is resourceOf for a group and kind.
func resourceOfKind(group, kind string) (string, bool) {
	return resourceOf(schema.GroupKind{Group: group, Kind: kind})
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
