package resource

import (
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
)

// rbac is the rights es's resource entries need: get, list and watch on what
// they watch, in each namespace they watch, and in every namespace for the
// entries that name none.
func rbac(es *v1alpha1.EventSource) []sources.Grant {
	byNamespace := map[string]map[[2]string]bool{} // watched namespace ("" = all) -> group/resource
	for _, entry := range es.Spec.Resource {
		if byNamespace[entry.Namespace] == nil {
			byNamespace[entry.Namespace] = map[[2]string]bool{}
		}
		byNamespace[entry.Namespace][[2]string{entry.Group, entry.Resource}] = true
	}
	namespaces := make([]string, 0, len(byNamespace))
	for ns := range byNamespace {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	out := make([]sources.Grant, 0, len(namespaces))
	for _, ns := range namespaces {
		out = append(out, sources.Grant{Namespace: ns, Rules: watchRules(byNamespace[ns])})
	}
	return out
}

// watchRules grants get, list and watch on each group/resource, one rule per group.
func watchRules(resources map[[2]string]bool) []rbacv1.PolicyRule {
	byGroup := map[string][]string{}
	for gr := range resources {
		byGroup[gr[0]] = append(byGroup[gr[0]], gr[1])
	}
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	rules := make([]rbacv1.PolicyRule, 0, len(groups))
	for _, g := range groups {
		sort.Strings(byGroup[g])
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: byGroup[g], Verbs: []string{"get", "list", "watch"}})
	}
	return rules
}
