package compile_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/pkg/kubetest"
	_ "github.com/flintevents/flint/sources/builtin" // the hook facts of the source types
)

// hookFiles compiles testdata/hooks.yaml and returns its files by path.
func hookFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := compile.Files(mustCluster(t, load(t, "hooks.yaml")), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		out[f.Path] = f.Data
	}
	return out
}

// TestHookJobFiles: compile writes, for an EventSource whose entries manage
// hooks, the Job that registers them beside the other objects and, when an
// entry sets deleteHookOnFinish, the Job that removes them under teardown/;
// nothing for entries that manage no hook or types that have none.
func TestHookJobFiles(t *testing.T) {
	t.Parallel()
	files := hookFiles(t)
	tests := []struct {
		eventSource string
		want        []string
	}{
		{eventSource: "managed", want: []string{"ci_job_managed-github-hooks-register.yaml", "teardown/ci_job_managed-github-hooks-unregister.yaml"}},
		{eventSource: "kept", want: []string{"ci_job_kept-github-hooks-register.yaml"}},
		{eventSource: "by-hand"},
		{eventSource: "plain"},
	}
	for _, tc := range tests {
		t.Run(tc.eventSource, func(t *testing.T) {
			t.Parallel()
			var got []string
			for path, data := range files {
				if strings.Contains(path, "_job_") && strings.Contains(string(data), "flintevents.io/eventsource: "+tc.eventSource+"\n") {
					got = append(got, path)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Job files = %q, want %q", got, tc.want)
			}
		})
	}
	if data := files["teardown/ci_job_managed-github-hooks-unregister.yaml"]; !strings.Contains(string(data),
		"kubectl apply -f <output dir>/teardown/ci_job_managed-github-hooks-unregister.yaml\n#   kubectl wait --for=condition=complete -n ci job/managed-github-hooks-unregister\n") {
		t.Errorf("the teardown Job does not say how to run it:\n%s", data)
	}
}

// decode reads one compiled YAML file into a typed object.
func decode[T runtime.Object](t *testing.T, data []byte, into T) T {
	t.Helper()
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return into
}

// TestHookJobPodTemplate: the hook Jobs run the Service's image once, with
// its EventSource and Secrets mounted as the Service mounts them, the
// FLINT_HOOKS mode instead of a sink, and a pod the restricted Pod Security
// profile admits.
func TestHookJobPodTemplate(t *testing.T) {
	t.Parallel()
	files := hookFiles(t)
	ksvc := decode(t, files["ci_service_managed-github.yaml"], &servingv1.Service{})
	svc := ksvc.Spec.Template.Spec
	for _, tc := range []struct{ path, mode string }{
		{path: "ci_job_managed-github-hooks-register.yaml", mode: "register"},
		{path: "teardown/ci_job_managed-github-hooks-unregister.yaml", mode: "unregister"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			job := decode(t, files[tc.path], &batchv1.Job{})
			pod := job.Spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(pod.Containers))
			}
			c := pod.Containers[0]
			if c.Image != svc.Containers[0].Image || c.Image != compile.SourceImagePrefix+"/github" {
				t.Errorf("image = %q, want the Service's %q", c.Image, svc.Containers[0].Image)
			}
			env := map[string]string{}
			for _, e := range c.Env {
				env[e.Name] = e.Value
			}
			want := map[string]string{
				"EVENTSOURCE_FILE":  "/etc/flint/eventsource/eventsource.yaml",
				"FLINT_SECRETS_DIR": compile.SecretsDir,
				"FLINT_HOOKS":       tc.mode,
			}
			for k, v := range want {
				if env[k] != v {
					t.Errorf("env %s = %q, want %q", k, env[k], v)
				}
			}
			if _, has := env["K_SINK"]; has {
				t.Errorf("env has K_SINK: a hook Job emits nothing")
			}
			if !reflect.DeepEqual(c.VolumeMounts, svc.Containers[0].VolumeMounts) || !reflect.DeepEqual(pod.Volumes, svc.Volumes) {
				t.Errorf("mounts %v and volumes %v, want the Service's %v and %v", c.VolumeMounts, pod.Volumes, svc.Containers[0].VolumeMounts, svc.Volumes)
			}
			var secrets []string
			for _, v := range pod.Volumes {
				if v.Secret != nil {
					secrets = append(secrets, v.Secret.SecretName)
				}
			}
			for _, m := range c.VolumeMounts {
				if strings.HasPrefix(m.MountPath, compile.SecretsDir+"/") && !m.ReadOnly {
					t.Errorf("secret mount %s is writable", m.MountPath)
				}
			}
			if !slices.Equal(secrets, []string{"github-access", "github-hook"}) {
				t.Errorf("secret volumes = %q, want the API token's and the webhook secret's", secrets)
			}
			if pod.RestartPolicy != corev1.RestartPolicyNever || job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 4 {
				t.Errorf("restartPolicy %q, backoffLimit %v: want Never, 4", pod.RestartPolicy, job.Spec.BackoffLimit)
			}
			if ttl := job.Spec.TTLSecondsAfterFinished; ttl == nil || *ttl != 300 {
				t.Errorf("ttlSecondsAfterFinished = %v, want 300", ttl)
			}
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Error("the pod mounts a service account token it never uses")
			}
			if job.Spec.Template.Annotations[compile.AnnotationEventSourceHash] == "" {
				t.Errorf("no %s on the pod template", compile.AnnotationEventSourceHash)
			}
		})
	}
}

// TestHookJobsOnAPIServer creates the hook Jobs as `kubectl apply` reads
// them, and a pod of each Job's template in a namespace enforcing the
// restricted Pod Security profile: the API server admits them. The same pod
// without its container's securityContext is refused, so the check can fail.
func TestHookJobsOnAPIServer(t *testing.T) {
	t.Parallel()
	env := kubetest.Start(t)
	files := hookFiles(t)
	for _, path := range []string{"ci_job_managed-github-hooks-register.yaml", "teardown/ci_job_managed-github-hooks-unregister.yaml"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			ns := env.Namespace(t)
			got, err := env.Clients.Core.Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got.Labels["pod-security.kubernetes.io/enforce"] = "restricted"
			if _, err := env.Clients.Core.Namespaces().Update(ctx, got, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}

			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(files[path], &u.Object); err != nil {
				t.Fatal(err)
			}
			u.SetNamespace(ns)
			mapping, err := env.Clients.Mapper.RESTMapping(u.GroupVersionKind().GroupKind(), u.GroupVersionKind().Version)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := env.Clients.Dynamic.Resource(mapping.Resource).Namespace(ns).Create(ctx, u, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
				t.Fatalf("creating the Job: %v", err)
			}

			job := decode(t, files[path], &batchv1.Job{})
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: job.Name, Namespace: ns, Labels: job.Spec.Template.Labels}, Spec: job.Spec.Template.Spec}
			if _, err := env.Clients.Core.Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				t.Fatalf("a pod of the Job's template is refused: %v", err)
			}
			loose := pod.DeepCopy()
			loose.Name += "-loose"
			loose.Spec.Containers[0].SecurityContext = nil
			_, err = env.Clients.Core.Pods(ns).Create(ctx, loose, metav1.CreateOptions{})
			if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `violates PodSecurity "restricted`) {
				t.Fatalf("a pod without the container's securityContext: %v, want it refused by PodSecurity", err)
			}
		})
	}
}
