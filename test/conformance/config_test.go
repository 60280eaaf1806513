package conformance

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	policyv1 "k8s.io/api/policy/v1"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/kubetest"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

// configDir is the `ko apply -Rf config/` tree.
const configDir = "../../config"

// modulePath prefixes every ko:// image of this module.
const modulePath = "github.com/flintevents/flint/"

// configDoc is one YAML document of config/.
type configDoc struct {
	where string // file#index
	raw   []byte
	obj   *unstructured.Unstructured
	typed any
}

// kinds are the kinds config/ may hold, each with the type it must decode into strictly.
var kinds = map[string]func() any{
	"Namespace":               func() any { return &corev1.Namespace{} },
	"ServiceAccount":          func() any { return &corev1.ServiceAccount{} },
	"ConfigMap":               func() any { return &corev1.ConfigMap{} },
	"Service":                 func() any { return &corev1.Service{} },
	"StatefulSet":             func() any { return &appsv1.StatefulSet{} },
	"Deployment":              func() any { return &appsv1.Deployment{} },
	"ClusterRole":             func() any { return &rbacv1.ClusterRole{} },
	"ClusterRoleBinding":      func() any { return &rbacv1.ClusterRoleBinding{} },
	"Role":                    func() any { return &rbacv1.Role{} },
	"RoleBinding":             func() any { return &rbacv1.RoleBinding{} },
	"Secret":                  func() any { return &corev1.Secret{} },
	"NetworkPolicy":           func() any { return &networkingv1.NetworkPolicy{} },
	"PodDisruptionBudget":     func() any { return &policyv1.PodDisruptionBudget{} },
	"HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
}

// readConfig decodes every document under config/ (recursively, as ko apply -R does)
// strictly into its Kubernetes type.
func readConfig(t *testing.T) []configDoc {
	t.Helper()
	var files []string
	err := filepath.WalkDir(configDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no config files: %v", err)
	}
	var docs []configDoc
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(f))
		for i := 1; ; i++ {
			raw, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s#%d: %v", file, i, err)
			}
			where := fmt.Sprintf("%s#%d", filepath.Base(file), i)
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(raw, &u.Object); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			if len(u.Object) == 0 {
				continue // comments only
			}
			newObj, ok := kinds[u.GetKind()]
			if !ok {
				t.Fatalf("%s: unexpected kind %q", where, u.GetKind())
			}
			typed := newObj()
			if err := yaml.UnmarshalStrict(raw, typed); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			docs = append(docs, configDoc{where: where, raw: raw, obj: u, typed: typed})
		}
		f.Close()
	}
	return docs
}

// TestConfig checks the `ko apply -Rf config/` manifests without a cluster: every
// document decodes strictly into its Kubernetes type, every ko:// image is a main
// package of this module, every Deployment runs hardened with limits and probes and
// reads only keys config-flint has, and .ko.yaml builds static images on distroless.
func TestConfig(t *testing.T) {
	t.Parallel()
	docs := readConfig(t)
	count := map[string]int{}
	var configFlint *corev1.ConfigMap
	secrets := map[string]*corev1.Secret{}
	for _, d := range docs {
		count[d.obj.GetKind()]++
		if cm, ok := d.typed.(*corev1.ConfigMap); ok && cm.Name == "config-flint" {
			configFlint = cm
		}
		if s, ok := d.typed.(*corev1.Secret); ok {
			secrets[s.Name] = s
		}
	}
	for k := range kinds {
		if count[k] == 0 {
			t.Errorf("config has no %s", k)
		}
	}
	if configFlint == nil {
		t.Fatal("config has no config-flint ConfigMap")
	}
	for _, key := range []string{"nats-address", "ingress-host", "stream-replicas", "stream-max-age", "duplicate-window", "stream-max-bytes"} {
		if configFlint.Data[key] == "" {
			t.Errorf("config-flint has no %s", key)
		}
	}

	koImage := regexp.MustCompile(`ko://(\S+)`)
	var images []string
	for _, d := range docs {
		for _, m := range koImage.FindAllSubmatch(d.raw, -1) {
			path := string(m[1])
			if !strings.HasPrefix(path, modulePath) {
				t.Errorf("%s: image ko://%s is not of this module", d.where, path)
				continue
			}
			images = append(images, path)
		}
		if dep, ok := d.typed.(*appsv1.Deployment); ok {
			checkDeployment(t, d.where, dep, configFlint, secrets)
		}
	}
	slices.Sort(images)
	images = slices.Compact(images)
	want := []string{modulePath + "broker/cmd/broker", modulePath + "broker/cmd/controller"}
	if !slices.Equal(images, want) {
		t.Errorf("ko:// images = %v, want %v", images, want)
	}
	if len(images) > 0 {
		args := append([]string{"list", "-f", "{{.ImportPath}} {{.Name}}"}, images...)
		out, err := exec.Command("go", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %v: %v\n%s", images, err, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if path, name, _ := strings.Cut(line, " "); name != "main" {
				t.Errorf("image ko://%s is package %s, not a main package", path, name)
			}
		}
	}

	var ko struct {
		DefaultBaseImage string   `json:"defaultBaseImage"`
		DefaultPlatforms []string `json:"defaultPlatforms"`
		DefaultEnv       []string `json:"defaultEnv"`
		DefaultFlags     []string `json:"defaultFlags"`
		DefaultLdflags   []string `json:"defaultLdflags"`
	}
	raw, err := os.ReadFile("../../.ko.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(raw, &ko); err != nil {
		t.Fatalf(".ko.yaml: %v", err)
	}
	if ko.DefaultBaseImage != "gcr.io/distroless/static:nonroot" {
		t.Errorf(".ko.yaml: defaultBaseImage %q, want gcr.io/distroless/static:nonroot", ko.DefaultBaseImage)
	}
	if !slices.Contains(ko.DefaultEnv, "CGO_ENABLED=0") {
		t.Errorf(".ko.yaml: defaultEnv %v does not turn CGO off", ko.DefaultEnv)
	}
	if slices.Contains(ko.DefaultFlags, "-trimpath") {
		t.Errorf(".ko.yaml: defaultFlags %v repeat -trimpath, which ko passes to go build itself", ko.DefaultFlags)
	}
}

// TestConfigNATS checks the NATS server of config/: a StatefulSet running the
// exact nats-server release that go.mod requires (the one the tests run
// embedded), governed by a headless Service of the same name whose selector
// matches its pods, so that config-flint's nats-address resolves to them.
func TestConfigNATS(t *testing.T) {
	t.Parallel()
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/nats-io/nats-server/v2 v(\d+\.\d+\.\d+)\s*$`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod requires no release of github.com/nats-io/nats-server/v2")
	}
	wantImage := "nats:" + string(m[1]) + "-alpine"

	var sts *appsv1.StatefulSet
	services := map[string]*corev1.Service{}
	var configFlint *corev1.ConfigMap
	for _, d := range readConfig(t) {
		switch o := d.typed.(type) {
		case *appsv1.StatefulSet:
			if o.Name == "nats" {
				sts = o
			}
		case *corev1.Service:
			services[o.Name] = o
		case *corev1.ConfigMap:
			if o.Name == "config-flint" {
				configFlint = o
			}
		}
	}
	if sts == nil || configFlint == nil {
		t.Fatalf("config has no nats StatefulSet (%v) or no config-flint (%v)", sts != nil, configFlint != nil)
	}
	for _, c := range sts.Spec.Template.Spec.Containers {
		if c.Name == "nats" && c.Image != wantImage {
			t.Errorf("nats image %q, want %q (the nats-server release of go.mod)", c.Image, wantImage)
		}
	}
	svc := services[sts.Spec.ServiceName]
	if svc == nil {
		t.Fatalf("no Service %q governs the nats StatefulSet", sts.Spec.ServiceName)
	}
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("Service %s: clusterIP %q, want None (headless, for the StatefulSet)", svc.Name, svc.Spec.ClusterIP)
	}
	for k, v := range svc.Spec.Selector {
		if sts.Spec.Template.Labels[k] != v {
			t.Errorf("Service %s selects %s=%s, which the nats pods do not carry", svc.Name, k, v)
		}
	}
	if len(svc.Spec.Selector) == 0 {
		t.Errorf("Service %s has no selector: its name would resolve to nothing", svc.Name)
	}
	wantAddr := fmt.Sprintf("%s.%s.svc.cluster.local:%d", svc.Name, svc.Namespace, svc.Spec.Ports[0].Port)
	if got := configFlint.Data["nats-address"]; got != wantAddr {
		t.Errorf("config-flint nats-address %q, want %q (the Service's DNS name)", got, wantAddr)
	}
}

// checkDeployment asks of a Deployment what config/ promises: non-root pods with a
// read-only root file system, requests and a memory limit, both probes, and
// config-flint keys and Secret keys that exist.
func checkDeployment(t *testing.T, where string, dep *appsv1.Deployment, configFlint *corev1.ConfigMap, secrets map[string]*corev1.Secret) {
	t.Helper()
	pod := dep.Spec.Template.Spec
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("%s: %s: pod does not set runAsNonRoot", where, dep.Name)
	}
	if pod.ServiceAccountName == "" {
		t.Errorf("%s: %s: no serviceAccountName", where, dep.Name)
	}
	for _, c := range pod.Containers {
		name := dep.Name + "/" + c.Name
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: %s: want readOnlyRootFilesystem and no privilege escalation, have %+v", where, name, sc)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: %s: want cpu and memory requests and a memory limit, have %+v", where, name, c.Resources)
		}
		if c.ReadinessProbe == nil || c.LivenessProbe == nil {
			t.Errorf("%s: %s: want readiness and liveness probes", where, name)
		}
		for _, e := range c.Env {
			ref := e.ValueFrom
			if ref != nil && ref.SecretKeyRef != nil {
				if s := secrets[ref.SecretKeyRef.Name]; s == nil || s.StringData[ref.SecretKeyRef.Key] == "" {
					t.Errorf("%s: %s: env %s reads secret %s/%s, which config/ does not hold", where, name, e.Name, ref.SecretKeyRef.Name, ref.SecretKeyRef.Key)
				}
			}
			if ref == nil || ref.ConfigMapKeyRef == nil {
				continue
			}
			if ref.ConfigMapKeyRef.Name != configFlint.Name || configFlint.Data[ref.ConfigMapKeyRef.Key] == "" {
				t.Errorf("%s: %s: env %s reads %s/%s, which config-flint does not hold", where, name, e.Name, ref.ConfigMapKeyRef.Name, ref.ConfigMapKeyRef.Key)
			}
		}
	}
}

// TestConfigDryRun sends every object of config/ to the test API server as a
// server-side dry-run create with strict field validation, then installs the RBAC
// objects and asks the server what the controller's and the data plane's service
// accounts may do.
func TestConfigDryRun(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	docs := readConfig(t)
	ctx := t.Context()
	// Namespaced objects need their namespace to exist; it is dry-run first, as it is.
	slices.SortStableFunc(docs, func(a, b configDoc) int {
		return boolCmp(a.obj.GetKind() != "Namespace", b.obj.GetKind() != "Namespace")
	})
	for _, d := range docs {
		gvk := d.obj.GroupVersionKind()
		mapping, err := env.Clients.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s: mapping %s: %v", d.where, gvk, err)
		}
		res := env.Clients.Dynamic.Resource(mapping.Resource)
		var client dynamic.ResourceInterface = res
		if ns := d.obj.GetNamespace(); ns != "" {
			client = res.Namespace(ns)
		}
		dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict", FieldManager: "flint-config-test"}
		if _, err := client.Create(ctx, d.obj.DeepCopy(), dry); err != nil && !(apierrs.IsAlreadyExists(err) && d.obj.GetKind() == "Namespace") {
			t.Errorf("%s: dry-run create of %s %s: %v", d.where, gvk.Kind, d.obj.GetName(), err)
		}
		if k := d.obj.GetKind(); k == "Namespace" || strings.HasSuffix(k, "Role") || strings.HasSuffix(k, "RoleBinding") {
			if _, err := client.Create(ctx, d.obj.DeepCopy(), metav1.CreateOptions{}); err != nil && !apierrs.IsAlreadyExists(err) {
				t.Fatalf("%s: creating %s %s: %v", d.where, gvk.Kind, d.obj.GetName(), err)
			}
		}
	}

	authz, err := authorizationclient.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	const (
		controllerSA = "system:serviceaccount:flint-system:flint-broker-controller"
		dataPlaneSA  = "system:serviceaccount:flint-system:flint-broker"
	)
	tests := []struct {
		user, verb, group, resource, subresource string
		allowed                                  bool
		namespace                                string // default when empty
	}{
		{controllerSA, "watch", "eventing.knative.dev", "brokers", "", true, ""},
		{controllerSA, "list", "eventing.knative.dev", "triggers", "", true, ""},
		{controllerSA, "update", "eventing.knative.dev", "brokers", "status", true, ""},
		{controllerSA, "update", "eventing.knative.dev", "triggers", "status", true, ""},
		{controllerSA, "patch", "eventing.knative.dev", "brokers", "", true, ""}, // the finalizer
		{controllerSA, "update", "eventing.knative.dev", "brokers", "finalizers", true, ""},
		{controllerSA, "create", "", "events", "", true, ""},
		{controllerSA, "watch", "", "services", "", true, ""},
		{controllerSA, "list", "serving.knative.dev", "services", "", true, ""},
		{controllerSA, "delete", "eventing.knative.dev", "brokers", "", false, ""},
		{controllerSA, "get", "", "secrets", "", false, ""},
		{dataPlaneSA, "watch", "eventing.knative.dev", "brokers", "", true, ""},
		{dataPlaneSA, "list", "eventing.knative.dev", "triggers", "", true, ""},
		{dataPlaneSA, "update", "eventing.knative.dev", "triggers", "status", false, ""},
		{dataPlaneSA, "get", "", "secrets", "", false, ""},
		// Leader election: the controller's Lease in flint-system, and no other.
		{controllerSA, "update", "coordination.k8s.io", "leases", "", true, "flint-system"},
		{controllerSA, "create", "coordination.k8s.io", "leases", "", true, "flint-system"},
		{controllerSA, "update", "coordination.k8s.io", "leases", "", false, "default"},
		{dataPlaneSA, "update", "coordination.k8s.io", "leases", "", false, "flint-system"},
	}
	for _, tc := range tests {
		if tc.namespace == "" {
			tc.namespace = "default"
		}
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   tc.user,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:flint-system", "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: tc.namespace, Verb: tc.verb, Group: tc.group, Resource: tc.resource, Subresource: tc.subresource,
			},
		}}
		got, err := authz.SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("access review: %v", err)
		}
		if got.Status.Allowed != tc.allowed {
			t.Errorf("%s may %s %s %s/%s in %s: %v, want %v (%s)", tc.user, tc.verb, tc.group, tc.resource, tc.subresource, tc.namespace,
				got.Status.Allowed, tc.allowed, got.Status.Reason)
		}
	}
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// TestConfigDataPlaneIsReplicated checks that config/ runs the ingress and the
// dispatcher as a replicated data plane: at least two replicas each, a
// PodDisruptionBudget that keeps one up, and a CPU autoscaler that never goes
// below two.
func TestConfigDataPlaneIsReplicated(t *testing.T) {
	t.Parallel()
	docs := readConfig(t)
	for _, name := range []string{"flint-broker-ingress", "flint-broker-dispatcher"} {
		var dep *appsv1.Deployment
		var pdb *policyv1.PodDisruptionBudget
		var hpa *autoscalingv2.HorizontalPodAutoscaler
		for _, d := range docs {
			switch o := d.typed.(type) {
			case *appsv1.Deployment:
				if o.Name == name {
					dep = o
				}
			case *policyv1.PodDisruptionBudget:
				if o.Spec.Selector != nil && o.Spec.Selector.MatchLabels["app.kubernetes.io/name"] == name {
					pdb = o
				}
			case *autoscalingv2.HorizontalPodAutoscaler:
				if o.Spec.ScaleTargetRef.Kind == "Deployment" && o.Spec.ScaleTargetRef.Name == name {
					hpa = o
				}
			}
		}
		if dep == nil {
			t.Errorf("config has no Deployment %s", name)
			continue
		}
		if dep.Spec.Replicas == nil || *dep.Spec.Replicas < 2 {
			t.Errorf("Deployment %s runs %v replicas, want at least 2", name, dep.Spec.Replicas)
		}
		if dep.Spec.Template.Labels["app.kubernetes.io/name"] != name {
			t.Errorf("Deployment %s: its pods are not labelled app.kubernetes.io/name=%s", name, name)
		}
		if pdb == nil || pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() < 1 {
			t.Errorf("Deployment %s has no PodDisruptionBudget keeping one pod up: %+v", name, pdb)
		}
		if hpa == nil {
			t.Errorf("Deployment %s has no HorizontalPodAutoscaler", name)
			continue
		}
		if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
			t.Errorf("HorizontalPodAutoscaler of %s scales %v..%d, want at least 2", name, hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
		}
		if len(hpa.Spec.Metrics) == 0 || hpa.Spec.Metrics[0].Resource == nil || hpa.Spec.Metrics[0].Resource.Name != "cpu" {
			t.Errorf("HorizontalPodAutoscaler of %s does not scale on CPU", name)
		}
		if c := dep.Spec.Template.Spec.Containers; len(c) == 0 || c[0].Resources.Requests.Cpu().IsZero() {
			t.Errorf("Deployment %s requests no CPU, which a CPU autoscaler needs", name)
		}
	}
}
