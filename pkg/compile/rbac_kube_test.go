package compile_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/pkg/kubetest"
)

// here stands for the test's namespace, where the sensors run.
const here = "<here>"

// accessCheck asks whether the function of a sensor may do one thing.
type accessCheck struct {
	sensor, verb, group, resource, subresource, namespace, name string
	allowed                                                     bool
}

func (c accessCheck) String() string {
	return fmt.Sprintf("%s: %s %s %s/%s %q in %q", c.sensor, c.verb, c.group, c.resource, c.subresource, c.name, c.namespace)
}

// TestSensorRBACOnAPIServer applies the RBAC objects compiled for sensors
// whose triggers act on the cluster to a real API server and asks it, with
// SubjectAccessReviews, what each sensor's ServiceAccount may do: exactly
// what its triggers need, nothing else.
func TestSensorRBACOnAPIServer(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	authz, err := authorizationclient.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path   string
		checks []accessCheck
	}{
		{path: "../../examples/webhook-workflow", checks: []accessCheck{
			{sensor: "webhook-workflow", verb: "create", group: "argoproj.io", resource: "workflows", namespace: here, allowed: true},
			{sensor: "webhook-workflow", verb: "delete", group: "argoproj.io", resource: "workflows", namespace: here},
			{sensor: "webhook-workflow", verb: "get", group: "argoproj.io", resource: "workflows", namespace: here},
			{sensor: "webhook-workflow", verb: "create", group: "argoproj.io", resource: "workflows", namespace: "default"},
			{sensor: "webhook-workflow", verb: "create", resource: "pods", namespace: here},
			{sensor: "webhook-workflow", verb: "get", resource: "secrets", namespace: here},
			{sensor: "webhook-workflow", verb: "list", resource: "secrets", namespace: here},
		}},
		{path: "testdata/cluster-triggers.yaml", checks: []accessCheck{
			// create-deployment, with policy.k8s
			{sensor: "k8s-actions", verb: "create", group: "apps", resource: "deployments", namespace: here, allowed: true},
			{sensor: "k8s-actions", verb: "get", group: "apps", resource: "deployments", namespace: here, name: "hello-x", allowed: true},
			{sensor: "k8s-actions", verb: "delete", group: "apps", resource: "deployments", namespace: here},
			{sensor: "k8s-actions", verb: "update", group: "apps", resource: "deployments", namespace: here},
			{sensor: "k8s-actions", verb: "create", group: "apps", resource: "deployments", namespace: "default"},
			// patch-other: a patch reads first and creates what is missing
			{sensor: "k8s-actions", verb: "patch", resource: "configmaps", namespace: "flint-rbac-other", name: "failures", allowed: true},
			{sensor: "k8s-actions", verb: "get", resource: "configmaps", namespace: "flint-rbac-other", name: "failures", allowed: true},
			{sensor: "k8s-actions", verb: "create", resource: "configmaps", namespace: "flint-rbac-other", allowed: true},
			{sensor: "k8s-actions", verb: "delete", resource: "configmaps", namespace: "flint-rbac-other", name: "failures"},
			{sensor: "k8s-actions", verb: "patch", resource: "configmaps", namespace: here, name: "failures"},
			// from-configmap: reads its source ConfigMap, and no other
			{sensor: "k8s-actions", verb: "get", resource: "configmaps", namespace: here, name: "trigger-sources", allowed: true},
			{sensor: "k8s-actions", verb: "get", resource: "configmaps", namespace: here, name: "other"},
			{sensor: "k8s-actions", verb: "list", resource: "configmaps", namespace: here},
			// delete-job: the namespace comes from the event
			{sensor: "k8s-actions", verb: "delete", group: "batch", resource: "jobs", namespace: "anywhere", name: "cleanup", allowed: true},
			{sensor: "k8s-actions", verb: "create", group: "batch", resource: "jobs", namespace: here},
			// label-node: cluster-scoped
			{sensor: "k8s-actions", verb: "update", resource: "nodes", name: "worker-1", allowed: true},
			{sensor: "k8s-actions", verb: "get", resource: "nodes", name: "worker-1", allowed: true},
			{sensor: "k8s-actions", verb: "delete", resource: "nodes", name: "worker-1"},
			{sensor: "k8s-actions", verb: "create", resource: "pods", namespace: here},
			{sensor: "k8s-actions", verb: "get", resource: "secrets", namespace: here},
			// workflow-actions
			{sensor: "workflow-actions", verb: "get", group: "argoproj.io", resource: "clusterworkflowtemplates", name: "nightly", allowed: true},
			{sensor: "workflow-actions", verb: "create", group: "argoproj.io", resource: "workflows", namespace: here, allowed: true},
			{sensor: "workflow-actions", verb: "get", group: "argoproj.io", resource: "workflows", namespace: here, name: "w", allowed: true},
			{sensor: "workflow-actions", verb: "patch", group: "argoproj.io", resource: "workflows", namespace: here, name: "w", allowed: true},
			{sensor: "workflow-actions", verb: "delete", group: "argoproj.io", resource: "workflows", namespace: here, name: "w"},
			{sensor: "workflow-actions", verb: "create", group: "argoproj.io", resource: "workflows", namespace: "flint-rbac-other"},
			{sensor: "workflow-actions", verb: "get", group: "argoproj.io", resource: "workflowtemplates", namespace: here},
			{sensor: "workflow-actions", verb: "create", group: "argoproj.io", resource: "clusterworkflowtemplates"},
			{sensor: "workflow-actions", verb: "get", resource: "secrets", namespace: here},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			ns := env.Namespace(t)
			in := loadPath(t, tc.path)
			for _, es := range in.EventSources {
				es.Namespace = ns
			}
			for _, s := range in.Sensors {
				s.Namespace = ns
			}
			applyRBAC(t, env, ns, mustCluster(t, in))
			for i := range tc.checks {
				if tc.checks[i].namespace == here {
					tc.checks[i].namespace = ns
				}
			}
			// RBAC takes effect once the authorizer's caches have the objects.
			var wrong []string
			deadline := time.Now().Add(60 * time.Second)
			for {
				wrong = wrong[:0]
				for _, c := range tc.checks {
					got, reason := mayDo(t, authz, ns, c)
					if got != c.allowed {
						wrong = append(wrong, fmt.Sprintf("%s: allowed %v, want %v (%s)", c, got, c.allowed, reason))
					}
				}
				if len(wrong) == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(250 * time.Millisecond)
			}
			if len(wrong) > 0 {
				t.Errorf("the API server answers otherwise than the triggers need:\n%s", strings.Join(wrong, "\n"))
			}
		})
	}
}

// applyRBAC creates the ServiceAccounts, Roles, ClusterRoles and their
// bindings of objs as `kubectl apply -f DIR` would read them: from the YAML
// files compile writes.
func applyRBAC(t *testing.T, env *kubetest.Env, ns string, objs []compile.Object) {
	t.Helper()
	ctx := t.Context()
	files, err := compile.Files(objs, nil)
	if err != nil {
		t.Fatal(err)
	}
	applied := 0
	for _, f := range files {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(f.Data, &u.Object); err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		switch u.GetKind() {
		case "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
		default:
			continue
		}
		if other := u.GetNamespace(); other != "" && other != ns {
			_, err := env.Clients.Core.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: other}}, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("creating namespace %s: %v", other, err)
			}
		}
		gvk := u.GroupVersionKind()
		mapping, err := env.Clients.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		var client dynamic.ResourceInterface = env.Clients.Dynamic.Resource(mapping.Resource)
		if u.GetNamespace() != "" {
			client = env.Clients.Dynamic.Resource(mapping.Resource).Namespace(u.GetNamespace())
		}
		if _, err := client.Create(ctx, u, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
			t.Fatalf("creating %s: %v", f.Path, err)
		}
		if u.GetNamespace() == "" {
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = client.Delete(ctx, u.GetName(), metav1.DeleteOptions{})
			})
		}
		applied++
	}
	if applied == 0 {
		t.Fatal("no RBAC object was compiled")
	}
}

// mayDo asks the API server whether the ServiceAccount of c's sensor in
// namespace ns may do c.
func mayDo(t *testing.T, authz authorizationclient.AuthorizationV1Interface, ns string, c accessCheck) (bool, string) {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   "system:serviceaccount:" + ns + ":" + compile.SensorServiceName(c.sensor),
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: c.namespace, Verb: c.verb, Group: c.group, Resource: c.resource, Subresource: c.subresource, Name: c.name,
		},
	}}
	got, err := authz.SubjectAccessReviews().Create(t.Context(), sar, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("access review: %v", err)
	}
	return got.Status.Allowed, got.Status.Reason
}
