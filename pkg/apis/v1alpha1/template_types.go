package v1alpha1

import corev1 "k8s.io/api/core/v1"

// Template is the pod template of an EventSource or Sensor deployment.
type Template struct {
	// Metadata sets the pod's annotations and labels.
	Metadata *Metadata `json:"metadata,omitempty"`
	// ServiceAccountName is the ServiceAccount the pod runs as.
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// Container customizes the main container.
	Container *Container `json:"container,omitempty"`
	// Volumes are the pod's volumes.
	Volumes []corev1.Volume `json:"volumes,omitempty"`
	// SecurityContext is the pod security context.
	SecurityContext *corev1.PodSecurityContext `json:"securityContext,omitempty"`
	// NodeSelector constrains the nodes the pod runs on.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Tolerations are the pod's tolerations.
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// ImagePullSecrets are the secrets used to pull images.
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`
	// PriorityClassName is the pod's priority class.
	PriorityClassName string `json:"priorityClassName,omitempty"`
	// Priority is the pod's priority value.
	Priority *int32 `json:"priority,omitempty"`
	// Affinity holds the pod's scheduling constraints.
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
}

// Container customizes the main container of a pod template.
type Container struct {
	Resources       corev1.ResourceRequirements `json:"resources,omitempty"`
	ImagePullPolicy corev1.PullPolicy           `json:"imagePullPolicy,omitempty"`
	SecurityContext *corev1.SecurityContext     `json:"securityContext,omitempty"`
	VolumeMounts    []corev1.VolumeMount        `json:"volumeMounts,omitempty"`
	Env             []corev1.EnvVar             `json:"env,omitempty"`
	EnvFrom         []corev1.EnvFromSource      `json:"envFrom,omitempty"`
}

// Service is the Kubernetes Service an EventSource exposes its push endpoints on.
type Service struct {
	// Metadata sets the Service's annotations and labels.
	Metadata *Metadata `json:"metadata,omitempty"`
	// Ports are the Service ports.
	Ports []corev1.ServicePort `json:"ports,omitempty"`
	// ClusterIP is the Service's cluster IP.
	ClusterIP string `json:"clusterIP,omitempty"`
}
