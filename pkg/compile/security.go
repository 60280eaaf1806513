package compile

import (
	corev1 "k8s.io/api/core/v1"
)

// sourceUser is the user and group a source container runs as: the
// "nonroot" user of the distroless base the images are built on (.ko.yaml).
const sourceUser = 65532

// restrictedSecurityContext is the securityContext of every container
// Cluster writes: what a namespace of Pod Security level "restricted"
// admits (a non-root user, no privilege escalation, every capability
// dropped, the runtime's default seccomp profile), with a read-only root
// filesystem, as config/ runs flint's own pods. It is set on the container:
// Knative takes these fields there, while a pod-level securityContext needs
// its podspec-securitycontext feature.
func restrictedSecurityContext() *corev1.SecurityContext {
	yes, no, user := true, false, int64(sourceUser)
	return &corev1.SecurityContext{
		RunAsNonRoot:             &yes,
		RunAsUser:                &user,
		RunAsGroup:               &user,
		AllowPrivilegeEscalation: &no,
		ReadOnlyRootFilesystem:   &yes,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// securityNote is the comment above a container's securityContext.
const securityNote = "What a namespace of Pod Security level \"restricted\" admits: the image's non-root user,\n" +
	"no privilege escalation, no capabilities, the runtime's default seccomp profile."
