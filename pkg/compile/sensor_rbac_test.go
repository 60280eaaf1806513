package compile_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/pkg/manifest"
	"github.com/flintevents/flint/triggers"
	_ "github.com/flintevents/flint/triggers/builtin"
)

// loadPath reads, defaults and validates a file or directory as flint does
// before compiling.
func loadPath(t *testing.T, path string) compile.Input {
	t.Helper()
	set, problems, err := manifest.Loader{}.Check(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("%s: %v", path, problems)
	}
	return compile.Input{EventSources: set.EventSources(), Sensors: set.Sensors(), Brokers: set.Brokers(), Triggers: set.Triggers()}
}

// rbacSummary renders the RBAC objects of a compiled output, one line per
// object and one per rule, as a user reads them in the YAML.
func rbacSummary(objs []compile.Object) []string {
	var out []string
	for _, o := range objs {
		name := o.Value.GetName()
		if ns := o.Value.GetNamespace(); ns != "" {
			name = ns + "/" + name
		}
		switch v := o.Value.(type) {
		case *rbacv1.Role:
			out = append(out, "Role "+name)
			out = append(out, ruleLines(v.Rules)...)
		case *rbacv1.ClusterRole:
			out = append(out, "ClusterRole "+name)
			out = append(out, ruleLines(v.Rules)...)
		case *rbacv1.RoleBinding:
			out = append(out, fmt.Sprintf("RoleBinding %s -> %s %s to %s", name, v.RoleRef.Kind, v.RoleRef.Name, subjects(v.Subjects)))
		case *rbacv1.ClusterRoleBinding:
			out = append(out, fmt.Sprintf("ClusterRoleBinding %s -> %s %s to %s", name, v.RoleRef.Kind, v.RoleRef.Name, subjects(v.Subjects)))
		default:
			if o.Kind() == "ServiceAccount" {
				out = append(out, "ServiceAccount "+name)
			}
		}
	}
	return out
}

func ruleLines(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		line := fmt.Sprintf("  %s %s %s", strings.Join(r.APIGroups, ","), strings.Join(r.Resources, ","), strings.Join(r.Verbs, ","))
		if len(r.ResourceNames) > 0 {
			line += " names=" + strings.Join(r.ResourceNames, ",")
		}
		out = append(out, line)
	}
	return out
}

func subjects(s []rbacv1.Subject) string {
	var out []string
	for _, sub := range s {
		out = append(out, sub.Kind+" "+sub.Namespace+"/"+sub.Name)
	}
	return strings.Join(out, ", ")
}

func mustCluster(t *testing.T, in compile.Input) []compile.Object {
	t.Helper()
	objs, err := compile.Cluster(mustCompile(t, in), compile.ClusterOptions{})
	if err != nil {
		t.Fatalf("Cluster() error = %v", err)
	}
	return objs
}

func TestSensorRBAC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path string
		want       []string
		// comments are texts the YAML of an object (kind/namespace/name) must hold.
		comments map[string][]string
	}{
		{name: "argo workflow submit", path: "../../examples/webhook-workflow", want: []string{
			"ServiceAccount default/webhook-workflow",
			"Role default/webhook-workflow",
			"  argoproj.io workflows create",
			"RoleBinding default/webhook-workflow -> Role webhook-workflow to ServiceAccount default/webhook-workflow",
		}, comments: map[string][]string{
			"Role/default/webhook-workflow": {"trigger hello-workflow (argoWorkflow submit): create workflows.argoproj.io"},
		}},
		{name: "k8s and argoWorkflow triggers", path: "testdata/cluster-triggers.yaml", want: []string{
			"ServiceAccount default/k8s-actions",
			"ClusterRole default-k8s-actions",
			"   nodes create,get,update",
			"  batch jobs delete",
			"ClusterRoleBinding default-k8s-actions -> ClusterRole default-k8s-actions to ServiceAccount default/k8s-actions",
			"Role default/k8s-actions",
			"   configmaps get names=trigger-sources",
			"  apps deployments create,get",
			"RoleBinding default/k8s-actions -> Role k8s-actions to ServiceAccount default/k8s-actions",
			"Role flint-rbac-other/k8s-actions",
			"   configmaps create,get,patch",
			"RoleBinding flint-rbac-other/k8s-actions -> Role k8s-actions to ServiceAccount default/k8s-actions",
			"ServiceAccount default/workflow-actions",
			"ClusterRole default-workflow-actions",
			"  argoproj.io clusterworkflowtemplates get",
			"ClusterRoleBinding default-workflow-actions -> ClusterRole default-workflow-actions to ServiceAccount default/workflow-actions",
			"Role default/workflow-actions",
			"  argoproj.io workflows create,get,patch",
			"RoleBinding default/workflow-actions -> Role workflow-actions to ServiceAccount default/workflow-actions",
		}, comments: map[string][]string{
			"ServiceAccount/default/k8s-actions": {
				"template.serviceAccountName operate-sa is not used",
				"trigger from-configmap (k8s patch): its object is known only when it fires (spec.triggers[3].template.k8s.source.configmap)",
			},
			"ClusterRole//default-k8s-actions": {
				"trigger delete-job (k8s delete): delete jobs.batch, as spec.triggers[1].template.k8s.parameters[0].dest writes metadata.namespace, so the namespace is known only when it fires",
				"trigger label-node (k8s update): create, get, update nodes, as nodes are cluster-scoped",
			},
			"Role/default/k8s-actions": {
				"trigger create-deployment (k8s create): create, get deployments.apps",
				"trigger from-configmap (k8s patch) reads its source: get configmaps trigger-sources",
			},
			"Role/flint-rbac-other/k8s-actions": {"trigger patch-other (k8s patch): create, get, patch configmaps"},
			"ClusterRole//default-workflow-actions": {
				"trigger nightly (argoWorkflow submit-from): get clusterworkflowtemplates.argoproj.io, as clusterworkflowtemplates.argoproj.io are cluster-scoped",
			},
		}},
		{name: "no cluster triggers", path: "testdata/graph.yaml", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs := mustCluster(t, loadPath(t, tc.path))
			if got := rbacSummary(objs); !slices.Equal(got, tc.want) {
				t.Errorf("RBAC =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			for key, texts := range tc.comments {
				o, ok := findObject(objs, key)
				if !ok {
					t.Errorf("no %s in the output", key)
					continue
				}
				text, err := o.YAML()
				if err != nil {
					t.Fatal(err)
				}
				flat := strings.Join(strings.Fields(strings.ReplaceAll(string(text), "#", "")), " ")
				for _, want := range texts {
					if !strings.Contains(flat, want) {
						t.Errorf("%s YAML lacks %q:\n%s", key, want, text)
					}
				}
			}
		})
	}
}

// findObject finds an object by "<kind>/<namespace>/<name>".
func findObject(objs []compile.Object, key string) (compile.Object, bool) {
	for _, o := range objs {
		if o.Kind()+"/"+o.Value.GetNamespace()+"/"+o.Value.GetName() == key {
			return o, true
		}
	}
	return compile.Object{}, false
}

func TestFunctionServiceAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path   string
		sensor string
		want   string
	}{
		{"../../examples/webhook-workflow", "webhook-workflow", "webhook-workflow"},
		{"testdata/cluster-triggers.yaml", "k8s-actions", "k8s-actions"},
		{"testdata/cluster-triggers.yaml", "logger", ""},
		// Its own account, as it needs none written.
		{"testdata/cluster-triggers.yaml", "own-account", "lambda-invoker"},
		{"../../examples/webhook", "webhook", ""},
	}
	for _, tc := range tests {
		t.Run(tc.sensor, func(t *testing.T) {
			t.Parallel()
			in := loadPath(t, tc.path)
			g := mustCompile(t, in)
			i := slices.IndexFunc(g.Sensors, func(s compile.Sensor) bool { return s.Sensor.Name == tc.sensor })
			if i < 0 {
				t.Fatalf("%s has no sensor %s", tc.path, tc.sensor)
			}
			p, err := compile.Function(g.Sensors[i], in.EventSources, compile.FunctionOptions{Triggers: triggers.Lookup})
			if err != nil {
				t.Fatalf("Function = %v", err)
			}
			var fn struct {
				Deploy struct {
					ServiceAccountName string `json:"serviceAccountName"`
				} `json:"deploy"`
			}
			if err := yaml.Unmarshal(p.Files["func.yaml"], &fn); err != nil {
				t.Fatalf("func.yaml: %v\n%s", err, p.Files["func.yaml"])
			}
			if fn.Deploy.ServiceAccountName != tc.want {
				t.Errorf("func.yaml deploy.serviceAccountName = %q, want %q\n%s", fn.Deploy.ServiceAccountName, tc.want, p.Files["func.yaml"])
			}
		})
	}
}

// TestServiceAccountWarnings is the warning `flint compile` prints when a
// Sensor's serviceAccountName is replaced by the account written for its
// triggers that act on the cluster, and only then.
func TestServiceAccountWarnings(t *testing.T) {
	t.Parallel()
	in := loadPath(t, "testdata/cluster-triggers.yaml")
	tests := []struct {
		sensor string
		// want are words of the warning at spec.template.serviceAccountName; none when nil.
		want []string
	}{
		{sensor: "k8s-actions", want: []string{"runs as ServiceAccount k8s-actions", "k8s triggers", "instead of operate-sa"}},
		{sensor: "own-account"},
		{sensor: "workflow-actions"},
		{sensor: "logger"},
	}
	for _, tc := range tests {
		t.Run(tc.sensor, func(t *testing.T) {
			t.Parallel()
			i := slices.IndexFunc(in.Sensors, func(s *v1alpha1.Sensor) bool { return s.Name == tc.sensor })
			if i < 0 {
				t.Fatalf("no sensor %s", tc.sensor)
			}
			fe := compile.SensorWarnings(in.Sensors[i])
			if tc.want == nil {
				if fe != nil {
					t.Fatalf("warnings %v, want none", fe)
				}
				return
			}
			if fe == nil || fe.Filter(apis.ErrorLevel) != nil {
				t.Fatalf("warnings %v, want one warning", fe)
			}
			errs := fe.WrappedErrors()
			if len(errs) != 1 || !slices.Equal(errs[0].Paths, []string{"spec.template.serviceAccountName"}) {
				t.Fatalf("warnings %v, want one at spec.template.serviceAccountName", fe)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs[0].Message, w) {
					t.Errorf("warning %q lacks %q", errs[0].Message, w)
				}
			}
		})
	}
}
