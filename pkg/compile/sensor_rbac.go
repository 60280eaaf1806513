package compile

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

const rbacAPIVersion = "rbac.authorization.k8s.io/v1"

// SensorServiceAccount is the ServiceAccount the function of Sensor s runs
// as (func.yaml's deploy.serviceAccountName): its function's name when one
// of its triggers (dlqTriggers included) acts on the cluster (k8s,
// argoWorkflow), an account Cluster writes with exactly the rights they use
// (the Sensor's spec.template.serviceAccountName is then not used; see
// ServiceAccountWarnings); otherwise the Sensor's own
// spec.template.serviceAccountName, an account of the user's that carries,
// say, a cloud identity for its triggers; otherwise "", the namespace's default.
func SensorServiceAccount(s *v1alpha1.Sensor) string {
	if clusterTriggers(s) != "" {
		return SensorServiceName(s.Name)
	}
	if t := s.Spec.Template; t != nil {
		return t.ServiceAccountName
	}
	return ""
}

// ServiceAccountWarnings is a warning at spec.template.serviceAccountName
// when the function of s runs as another account than the one it names:
// the one Cluster writes for its triggers that act on the cluster. It is
// nil otherwise.
func ServiceAccountWarnings(s *v1alpha1.Sensor) *apis.FieldError {
	t := s.Spec.Template
	if t == nil || t.ServiceAccountName == "" || clusterTriggers(s) == "" {
		return nil
	}
	return apis.ErrGeneric(fmt.Sprintf("the function runs as ServiceAccount %s, which flint compile writes with exactly the rights "+
		"its %s triggers use, instead of %s: what %s holds beyond them (other rights, a cloud identity) does not apply",
		SensorServiceName(s.Name), clusterTriggers(s), t.ServiceAccountName, t.ServiceAccountName),
		"spec.template.serviceAccountName").At(apis.WarningLevel)
}

// sensorRBAC is the ServiceAccount of a sensor whose triggers act on the
// cluster and exactly the rights they use: a Role and RoleBinding in each
// namespace they act in, and a ClusterRole and ClusterRoleBinding for
// cluster-scoped objects and objects whose namespace only a firing tells.
// It is nil for other sensors.
func sensorRBAC(s Sensor) []Object {
	if clusterTriggers(s.Sensor) == "" {
		return nil
	}
	sa := SensorServiceAccount(s.Sensor)
	labels := map[string]string{LabelSensor: s.Sensor.Name}
	a := accessOf(s.Sensor, s.Namespace)
	comment := fmt.Sprintf("The identity of the function of Sensor %s/%s (func.yaml deploy.serviceAccountName):\n"+
		"it may do exactly what the Sensor's k8s and argoWorkflow triggers do, as the Roles bound to it say.", s.Namespace, s.Sensor.Name)
	if t := s.Sensor.Spec.Template; t != nil && t.ServiceAccountName != "" {
		comment += fmt.Sprintf("\nThe Sensor's template.serviceAccountName %s is not used: the function runs as this account.", t.ServiceAccountName)
	}
	if len(a.unknown) > 0 {
		comment += "\nNot written, as only a firing tells; grant these rights to this account yourself:\n  " +
			strings.Join(a.unknown, "\n  ")
	}
	out := []Object{{Value: &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: objectMeta(sa, s.Namespace, labels),
	}, Comment: comment}}
	subject := rbacv1.Subject{Kind: "ServiceAccount", Name: sa, Namespace: s.Namespace}
	for _, ns := range a.namespaces() {
		scope := a.scopes[ns]
		rules := policyRules(scope.verbs)
		reasons := "\n  " + strings.Join(scope.reasons, "\n  ")
		if ns == clusterScope {
			name := shortName(s.Namespace+"-"+sa, maxNameLength)
			out = append(out,
				Object{Value: &rbacv1.ClusterRole{
					TypeMeta:   metav1.TypeMeta{APIVersion: rbacAPIVersion, Kind: "ClusterRole"},
					ObjectMeta: objectMeta(name, "", labels),
					Rules:      rules,
				}, Comment: fmt.Sprintf("What the triggers of Sensor %s/%s do in every namespace or on cluster-scoped objects,\nand why a Role in one namespace would not do:%s",
					s.Namespace, s.Sensor.Name, reasons)},
				Object{Value: &rbacv1.ClusterRoleBinding{
					TypeMeta:   metav1.TypeMeta{APIVersion: rbacAPIVersion, Kind: "ClusterRoleBinding"},
					ObjectMeta: objectMeta(name, "", labels),
					RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
					Subjects:   []rbacv1.Subject{subject},
				}, Comment: fmt.Sprintf("Grants ClusterRole %s to the function of Sensor %s/%s.", name, s.Namespace, s.Sensor.Name)})
			continue
		}
		out = append(out,
			Object{Value: &rbacv1.Role{
				TypeMeta:   metav1.TypeMeta{APIVersion: rbacAPIVersion, Kind: "Role"},
				ObjectMeta: objectMeta(sa, ns, labels),
				Rules:      rules,
			}, Comment: fmt.Sprintf("What the triggers of Sensor %s/%s do in namespace %s:%s", s.Namespace, s.Sensor.Name, ns, reasons)},
			Object{Value: &rbacv1.RoleBinding{
				TypeMeta:   metav1.TypeMeta{APIVersion: rbacAPIVersion, Kind: "RoleBinding"},
				ObjectMeta: objectMeta(sa, ns, labels),
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: sa},
				Subjects:   []rbacv1.Subject{subject},
			}, Comment: fmt.Sprintf("Grants Role %s/%s to the function of Sensor %s/%s.", ns, sa, s.Namespace, s.Sensor.Name)})
	}
	return out
}

// policyRules is one rule per resource (and object name), sorted by group,
// resource and name, with its verbs sorted.
func policyRules(verbs map[rule]map[string]bool) []rbacv1.PolicyRule {
	keys := make([]rule, 0, len(verbs))
	for r := range verbs {
		keys = append(keys, r)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.group != b.group {
			return a.group < b.group
		}
		if a.resource != b.resource {
			return a.resource < b.resource
		}
		return a.name < b.name
	})
	rules := make([]rbacv1.PolicyRule, 0, len(keys))
	for _, r := range keys {
		vs := make([]string, 0, len(verbs[r]))
		for v := range verbs[r] {
			vs = append(vs, v)
		}
		sort.Strings(vs)
		pr := rbacv1.PolicyRule{APIGroups: []string{r.group}, Resources: []string{r.resource}, Verbs: vs}
		if r.name != "" {
			pr.ResourceNames = []string{r.name}
		}
		rules = append(rules, pr)
	}
	return rules
}
