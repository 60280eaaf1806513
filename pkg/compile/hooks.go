package compile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"

	"github.com/flintevents/flint/sources"
)

// TeardownDir is the directory of the output that holds what is applied
// when EventSources are taken down rather than with the rest (`kubectl
// apply -f DIR` does not descend into it): the Jobs that remove the hooks
// their entries manage.
const TeardownDir = "teardown"

// Hook Jobs.
const (
	// LabelHooks is set on the hook Jobs and their pods: "register" or "unregister".
	LabelHooks = "flintevents.io/hooks"
	// AnnotationEventSourceHash, on a hook Job's pod template, is a hash of
	// the EventSource the Job reads, so that a changed EventSource is a
	// changed Job.
	AnnotationEventSourceHash = "flintevents.io/eventsource-sha256"

	// hookJobTTL is how long a finished hook Job and its pod (its logs) are
	// kept, in seconds.
	hookJobTTL = 300
	// hookJobBackoffLimit is how many times a failed registration is retried.
	hookJobBackoffLimit = 4
	// nonRootUser is the user of the distroless "nonroot" base of the images.
	nonRootUser = 65532

	envHooks        = "FLINT_HOOKS"
	hooksRegister   = "register"
	hooksUnregister = "unregister"
)

// hookJobs returns the Jobs of a source whose type manages hooks (m, its
// sources.Type.Hooks; nil for a type that manages none) and whose entries
// ask for one: the Job that registers
// them, applied with the rest, and, when an entry asks for its hook to go
// with the source, the Job that removes them, written under TeardownDir.
// Both run the image of the source's first Knative Service, found in objs,
// with its environment and mounts, for every entry. None for any other source.
func hookJobs(src Source, m *sources.HookManager, objs []Object) ([]Object, error) {
	if m == nil {
		return nil, nil
	}
	register, remove := m.Wants(src.EventSource)
	if !register {
		return nil, nil
	}
	var ksvc *servingv1.Service
	for _, o := range objs {
		if s, ok := o.Value.(*servingv1.Service); ok {
			ksvc = s
			break
		}
	}
	if ksvc == nil || len(ksvc.Spec.Template.Spec.Containers) == 0 {
		return nil, fmt.Errorf("compiling eventsource %s/%s: no Knative Service for its %s hooks to run the image of",
			src.Namespace, src.EventSource.Name, src.Key)
	}
	cm, err := eventSourceConfigMap(src, "")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(cm.Value.(*corev1.ConfigMap).Data[EventSourceKey]))
	hash := hex.EncodeToString(sum[:8])

	es := src.EventSource
	name := shortName(ksvc.Name+"-hooks-"+hooksRegister, maxNameLength)
	out := []Object{{
		Value: hookJob(src, ksvc, name, hooksRegister, hash),
		Comment: fmt.Sprintf(
			"Job registering the hooks that the %s entries of EventSource %s manage, for their public URL\n"+
				"(webhook.url joined with webhook.endpoint): it runs the source image once with %s=%s, which\n"+
				"updates the hook already delivering there or else creates one. The Service's pods never register\n"+
				"or delete a hook, so scaling to zero keeps them. Once the finished Job is gone (ttlSecondsAfterFinished),\n"+
				"the next apply runs it again. If apply says its template is immutable, the EventSource changed while\n"+
				"the last run is kept: `kubectl delete job -n %s %s`, then apply again.",
			src.Key, es.Name, envHooks, hooksRegister, src.Namespace, name),
		Notes: []Note{
			{Key: "ttlSecondsAfterFinished", Text: "The finished Job and its pod's logs are kept five minutes."},
			{Key: "name: " + envHooks, Text: "Register the hooks and exit; serve nothing."},
		},
	}}
	if remove {
		name := shortName(ksvc.Name+"-hooks-"+hooksUnregister, maxNameLength)
		out = append(out, Object{
			Value: hookJob(src, ksvc, name, hooksUnregister, hash),
			Dir:   TeardownDir,
			Comment: fmt.Sprintf(
				"Job removing the hooks of the %s entries of EventSource %s that set deleteHookOnFinish.\n"+
					"It is not applied with the rest. To take the EventSource down, apply it first and wait for it,\n"+
					"  kubectl apply -f <output dir>/%s/%s_job_%s.yaml\n"+
					"  kubectl wait --for=condition=complete -n %s job/%s\n"+
					"then delete the other objects: it reads the EventSource's ConfigMap and Secrets.",
				src.Key, es.Name, TeardownDir, src.Namespace, name, src.Namespace, name),
			Notes: []Note{{Key: "name: " + envHooks, Text: "Remove the hooks and exit; serve nothing."}},
		})
	}
	return out, nil
}

// hookJob is a Job running the image of ksvc once in the FLINT_HOOKS mode,
// with the Service's environment (but its sink) and mounts, in a pod that a
// namespace enforcing the `restricted` Pod Security profile admits.
func hookJob(src Source, ksvc *servingv1.Service, name, mode, hash string) *batchv1.Job {
	pod := ksvc.Spec.Template.Spec.DeepCopy()
	svc := pod.Containers[0]
	env := make([]corev1.EnvVar, 0, len(svc.Env)+1)
	for _, e := range svc.Env {
		if e.Name != envSink && e.Name != envEventNames { // the hooks of every entry
			env = append(env, e)
		}
	}
	env = append(env, corev1.EnvVar{Name: envHooks, Value: mode})
	labels := map[string]string{LabelEventSource: src.EventSource.Name, LabelSourceType: src.Key, LabelHooks: mode}
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: objectMeta(name, src.Namespace, labels),
		Spec: batchv1.JobSpec{
			BackoffLimit:            ptrTo[int32](hookJobBackoffLimit),
			TTLSecondsAfterFinished: ptrTo[int32](hookJobTTL),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{AnnotationEventSourceHash: hash}},
				Spec: corev1.PodSpec{
					RestartPolicy:                corev1.RestartPolicyNever,
					AutomountServiceAccountToken: ptrTo(false),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptrTo(true),
						RunAsUser:      ptrTo[int64](nonRootUser),
						RunAsGroup:     ptrTo[int64](nonRootUser),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name:         "hooks",
						Image:        svc.Image,
						Env:          env,
						VolumeMounts: svc.VolumeMounts,
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptrTo(false),
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
							ReadOnlyRootFilesystem:   ptrTo(true),
						},
					}},
					Volumes: pod.Volumes,
				},
			},
		},
	}
}

func ptrTo[T any](v T) *T { return &v }
