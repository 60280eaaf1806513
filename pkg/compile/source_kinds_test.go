package compile_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/sources"
)

// Types registered in this test binary only, for keys no built-in source
// type serves yet: file as a watch type whose entries need rights in the
// cluster (what the entry names, so the rights visibly come from the type),
// hdfs as a pull type that needs none and keeps a backlog, and calendar, which testdata/graph.yaml
// uses, as a pull type unless a built-in type serves it.
func init() {
	refuse := func(*v1alpha1.EventSource, sources.Deps) (sources.Source, error) {
		return nil, errors.New("registered for compiling only")
	}
	sources.Register(v1alpha1.TypeFile, sources.Watch, refuse, sources.NeedsRBAC(func(es *v1alpha1.EventSource) []sources.Grant {
		var dirs []string
		for _, e := range es.Spec.File {
			dirs = append(dirs, e.WatchPathConfig.Directory)
		}
		return []sources.Grant{
			{Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get"}}}},
			{Namespace: "storage", Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"},
				ResourceNames: dirs, Verbs: []string{"get", "update"}}}},
		}
	}))
	sources.Register(v1alpha1.TypeHDFS, sources.Pull, refuse, sources.KeepsBacklog())
	if _, ok := sources.Lookup(v1alpha1.TypeCalendar); !ok {
		sources.Register(v1alpha1.TypeCalendar, sources.Pull, refuse)
	}
}

// TestSourceServiceFromTypeFacts compiles sources of registered types and
// checks that their Knative Service scales as their kind says and that its
// ServiceAccount and RBAC are the rights the type returns.
func TestSourceServiceFromTypeFacts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path, service string
		wantKind            string
		wantScale           [2]string // min-scale, max-scale
		wantAccount         string    // the Service's serviceAccountName
		wantRBAC            []string
	}{
		{name: "watch type with rights", path: "testdata/source-kinds.yaml", service: "team/files-file",
			wantKind: "(a watch source)", wantScale: [2]string{"1", "1"}, wantAccount: "files-file", wantRBAC: []string{
				"ServiceAccount team/files-file",
				"ClusterRole team-files-file",
				"   nodes get",
				"ClusterRoleBinding team-files-file -> ClusterRole team-files-file to ServiceAccount team/files-file",
				"Role storage/files-file",
				"   configmaps get,update names=/bin/",
				"RoleBinding storage/files-file -> Role files-file to ServiceAccount team/files-file",
			}},
		{name: "pull type without rights", path: "testdata/source-kinds.yaml", service: "team/lake-hdfs",
			wantKind: "(a pull source)", wantScale: [2]string{"0", "1"}},
		{name: "resource", path: "../../test/conformance/testdata/valid/eventsources/resource.yaml", service: "default/resource-resource",
			wantKind: "(a watch source)", wantScale: [2]string{"1", "1"}, wantAccount: "resource-resource", wantRBAC: []string{
				"ServiceAccount default/resource-resource",
				"Role argo-events/resource-resource",
				"  argoproj.io workflows get,list,watch",
				"RoleBinding argo-events/resource-resource -> Role resource-resource to ServiceAccount default/resource-resource",
			}},
		{name: "push type", path: "testdata/ports.yaml", service: "default/single-webhook",
			wantKind: "(a push source)", wantScale: [2]string{"0", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			objs := mustCluster(t, loadPath(t, tc.path))
			svcObj, ok := findObject(objs, "Service/"+tc.service)
			if !ok {
				t.Fatalf("no Knative Service %s in the output", tc.service)
			}
			ksvc := svcObj.Value.(*servingv1.Service)
			if !strings.Contains(svcObj.Comment, tc.wantKind) {
				t.Errorf("the Service's comment %q does not say %q", svcObj.Comment, tc.wantKind)
			}
			ann := ksvc.Spec.Template.Annotations
			if got := [2]string{ann["autoscaling.knative.dev/min-scale"], ann["autoscaling.knative.dev/max-scale"]}; got != tc.wantScale {
				t.Errorf("min-scale, max-scale = %q, want %q", got, tc.wantScale)
			}
			if got := ksvc.Spec.Template.Spec.ServiceAccountName; got != tc.wantAccount {
				t.Errorf("serviceAccountName = %q, want %q", got, tc.wantAccount)
			}
			var mine []compile.Object
			for _, o := range objs {
				if o.Value.GetLabels()[compile.LabelEventSource] == ksvc.Labels[compile.LabelEventSource] &&
					o.Value.GetLabels()[compile.LabelSourceType] == ksvc.Labels[compile.LabelSourceType] {
					mine = append(mine, o)
				}
			}
			if got := rbacSummary(mine); !slices.Equal(got, tc.wantRBAC) {
				t.Errorf("RBAC of the source:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.wantRBAC, "\n"))
			}
		})
	}
}

// TestUnregisteredSourceTypeIsRefused compiles an EventSource of a type no
// registered source type serves: Cluster refuses it at its type key, naming
// the EventSource, rather than writing a Service with no image to run.
func TestUnregisteredSourceTypeIsRefused(t *testing.T) {
	t.Parallel()
	in := loadPath(t, "../../test/conformance/testdata/valid/eventsources/mns.yaml")
	if _, ok := sources.Lookup(v1alpha1.TypeMNS); ok {
		t.Skip("mns is a registered source type now: pick another key for this test")
	}
	_, err := compile.Cluster(mustCompile(t, in), compile.ClusterOptions{})
	if err == nil {
		t.Fatal("Cluster() compiled an mns source no registered type serves")
	}
	for _, want := range []string{`not runnable yet: event source type "mns"`, "spec.mns", "EventSource default/mns"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Cluster() error = %q, want it to contain %q", err, want)
		}
	}
}
