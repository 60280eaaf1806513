package v1alpha1

import (
	"bytes"
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
)

// ArtifactLocation says where the object a k8s or argoWorkflow trigger
// creates comes from; exactly one member is set.
type ArtifactLocation struct {
	// S3 is an S3-compatible object.
	S3 *S3Artifact `json:"s3,omitempty"`
	// Inline is the object as a string embedded in the sensor.
	Inline *string `json:"inline,omitempty"`
	// File is a file on the sensor's file system.
	File *FileArtifact `json:"file,omitempty"`
	// URL is an HTTP location.
	URL *URLArtifact `json:"url,omitempty"`
	// Configmap is a ConfigMap key.
	Configmap *corev1.ConfigMapKeySelector `json:"configmap,omitempty"`
	// Git is a file in a git repository.
	Git *GitArtifact `json:"git,omitempty"`
	// Resource is the object embedded in the sensor.
	Resource *K8SResource `json:"resource,omitempty"`
}

// K8SResource is an arbitrary Kubernetes object embedded in YAML, kept as raw JSON.
type K8SResource struct {
	Value []byte `json:"value"`
}

// UnmarshalJSON keeps the object as raw JSON.
func (r *K8SResource) UnmarshalJSON(value []byte) error {
	r.Value = append([]byte(nil), bytes.TrimSpace(value)...)
	return nil
}

// MarshalJSON writes the raw object back.
func (r K8SResource) MarshalJSON() ([]byte, error) {
	if len(r.Value) == 0 {
		return []byte("null"), nil
	}
	return r.Value, nil
}

// Object decodes the embedded object into a map.
func (r *K8SResource) Object() (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(r.Value, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// FileArtifact is an artifact in a file.
type FileArtifact struct {
	Path string `json:"path,omitempty"`
}

// URLArtifact is an artifact fetched over HTTP.
type URLArtifact struct {
	// Path is the complete URL.
	Path string `json:"path"`
	// VerifyCert enables server certificate verification.
	VerifyCert bool `json:"verifyCert,omitempty"`
}

// GitArtifact is an artifact stored in a git repository.
type GitArtifact struct {
	URL                   string                    `json:"url"`
	CloneDirectory        string                    `json:"cloneDirectory"`
	Creds                 *GitCreds                 `json:"creds,omitempty"`
	SSHKeySecret          *corev1.SecretKeySelector `json:"sshKeySecret,omitempty"`
	FilePath              string                    `json:"filePath"`
	Branch                string                    `json:"branch,omitempty"`
	Tag                   string                    `json:"tag,omitempty"`
	Ref                   string                    `json:"ref,omitempty"`
	Remote                *GitRemoteConfig          `json:"remote,omitempty"`
	InsecureIgnoreHostKey bool                      `json:"insecureIgnoreHostKey,omitempty"`
}

// GitRemoteConfig is a git remote.
type GitRemoteConfig struct {
	Name string   `json:"name"`
	URLS []string `json:"urls"`
}

// GitCreds refers to the secrets that hold git credentials.
type GitCreds struct {
	Username *corev1.SecretKeySelector `json:"username,omitempty"`
	Password *corev1.SecretKeySelector `json:"password,omitempty"`
}

// S3Artifact is an object or bucket in an S3-compatible store.
type S3Artifact struct {
	Endpoint      string                    `json:"endpoint"`
	Bucket        *S3Bucket                 `json:"bucket"`
	Region        string                    `json:"region,omitempty"`
	Insecure      bool                      `json:"insecure,omitempty"`
	AccessKey     *corev1.SecretKeySelector `json:"accessKey"`
	SecretKey     *corev1.SecretKeySelector `json:"secretKey"`
	Events        []string                  `json:"events,omitempty"`
	Filter        *S3Filter                 `json:"filter,omitempty"`
	Metadata      map[string]string         `json:"metadata,omitempty"`
	CACertificate *corev1.SecretKeySelector `json:"caCertificate,omitempty"`
}

// S3Bucket names a bucket and optionally an object key.
type S3Bucket struct {
	Key  string `json:"key,omitempty"`
	Name string `json:"name"`
}

// S3Filter restricts bucket notifications by object key prefix and suffix.
type S3Filter struct {
	Prefix string `json:"prefix"`
	Suffix string `json:"suffix"`
}
