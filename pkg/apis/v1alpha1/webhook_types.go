package v1alpha1

import corev1 "k8s.io/api/core/v1"

// DefaultMaxWebhookPayloadSize is the largest request body a webhook accepts by default (1 MiB).
const DefaultMaxWebhookPayloadSize int64 = 1048576

// WebhookContext is the HTTP endpoint shared by every push event source.
type WebhookContext struct {
	// Endpoint is the URL path, starting with "/".
	Endpoint string `json:"endpoint"`
	// Method is the accepted HTTP method.
	Method string `json:"method"`
	// Port is the port the HTTP server listens on.
	Port string `json:"port"`
	// URL is the external URL of the server, used to register hooks.
	URL string `json:"url"`
	// ServerCertSecret refers to the secret that holds the TLS certificate.
	ServerCertSecret *corev1.SecretKeySelector `json:"serverCertSecret,omitempty"`
	// ServerKeySecret refers to the secret that holds the TLS key.
	ServerKeySecret *corev1.SecretKeySelector `json:"serverKeySecret,omitempty"`
	// Metadata is attached to every event.
	Metadata map[string]string `json:"metadata,omitempty"`
	// AuthSecret refers to the secret that holds the expected bearer token.
	AuthSecret *corev1.SecretKeySelector `json:"authSecret,omitempty"`
	// MaxPayloadSize is the largest accepted body; 1 MiB when nil.
	MaxPayloadSize *int64 `json:"maxPayloadSize,omitempty"`
	// BasicAuth refers to the secrets that hold the expected basic credentials.
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
}

// GetMaxPayloadSize returns MaxPayloadSize or its default.
func (w *WebhookContext) GetMaxPayloadSize() int64 {
	if w == nil || w.MaxPayloadSize == nil {
		return DefaultMaxWebhookPayloadSize
	}
	return *w.MaxPayloadSize
}

// WebhookEventSource is a generic HTTP endpoint that turns requests into events.
type WebhookEventSource struct {
	WebhookContext `json:",inline"`
	// Filter drops events for which the expression is false.
	Filter *EventSourceFilter `json:"filter,omitempty"`
}

// EventSourceFilter is an expression evaluated on event data at the source.
type EventSourceFilter struct {
	Expression string `json:"expression,omitempty"`
}
