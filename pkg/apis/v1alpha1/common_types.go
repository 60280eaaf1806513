package v1alpha1

import corev1 "k8s.io/api/core/v1"

// TLSConfig is the client TLS configuration shared by many sources and triggers.
type TLSConfig struct {
	// CACertSecret refers to the secret that holds the CA certificate.
	CACertSecret *corev1.SecretKeySelector `json:"caCertSecret,omitempty"`
	// ClientCertSecret refers to the secret that holds the client certificate.
	ClientCertSecret *corev1.SecretKeySelector `json:"clientCertSecret,omitempty"`
	// ClientKeySecret refers to the secret that holds the client key.
	ClientKeySecret *corev1.SecretKeySelector `json:"clientKeySecret,omitempty"`
	// InsecureSkipVerify disables server certificate verification.
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
	// Enabled turns TLS on without client certificates.
	Enabled bool `json:"enabled,omitempty"`
}

// SASLConfig is the SASL configuration of a Kafka client.
type SASLConfig struct {
	// Mechanism is the SASL mechanism (PLAIN by default).
	Mechanism string `json:"mechanism,omitempty"`
	// UserSecret refers to the secret that holds the user name.
	UserSecret *corev1.SecretKeySelector `json:"userSecret,omitempty"`
	// PasswordSecret refers to the secret that holds the password.
	PasswordSecret *corev1.SecretKeySelector `json:"passwordSecret,omitempty"`
}

// BasicAuth refers to the secrets that hold a user name and password.
type BasicAuth struct {
	// Username refers to the secret that holds the user name.
	Username *corev1.SecretKeySelector `json:"username,omitempty"`
	// Password refers to the secret that holds the password.
	Password *corev1.SecretKeySelector `json:"password,omitempty"`
}

// SecureHeader is a request header whose value comes from a secret or config map.
type SecureHeader struct {
	// Name is the header name.
	Name string `json:"name,omitempty"`
	// ValueFrom says where the value is read from.
	ValueFrom *ValueFromSource `json:"valueFrom,omitempty"`
}

// ValueFromSource refers to a key of a Secret or of a ConfigMap.
type ValueFromSource struct {
	// SecretKeyRef refers to a Secret key.
	SecretKeyRef *corev1.SecretKeySelector `json:"secretKeyRef,omitempty"`
	// ConfigMapKeyRef refers to a ConfigMap key.
	ConfigMapKeyRef *corev1.ConfigMapKeySelector `json:"configMapKeyRef,omitempty"`
}

// Metadata holds the annotations and labels of a pod template.
type Metadata struct {
	Annotations map[string]string `json:"annotations,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
}
