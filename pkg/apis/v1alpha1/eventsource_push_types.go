package v1alpha1

import corev1 "k8s.io/api/core/v1"

// SlackEventSource receives Slack slash commands and Events API calls.
type SlackEventSource struct {
	SigningSecret *corev1.SecretKeySelector `json:"signingSecret,omitempty"`
	Token         *corev1.SecretKeySelector `json:"token,omitempty"`
	Webhook       *WebhookContext           `json:"webhook,omitempty"`
	Metadata      map[string]string         `json:"metadata,omitempty"`
	Filter        *EventSourceFilter        `json:"filter,omitempty"`
}

// SNSEventSource is an HTTP endpoint subscribed to an AWS SNS topic.
type SNSEventSource struct {
	Webhook           *WebhookContext           `json:"webhook,omitempty"`
	TopicArn          string                    `json:"topicArn"`
	AccessKey         *corev1.SecretKeySelector `json:"accessKey,omitempty"`
	SecretKey         *corev1.SecretKeySelector `json:"secretKey,omitempty"`
	Region            string                    `json:"region"`
	RoleARN           string                    `json:"roleARN,omitempty"`
	Metadata          map[string]string         `json:"metadata,omitempty"`
	ValidateSignature bool                      `json:"validateSignature,omitempty"`
	Filter            *EventSourceFilter        `json:"filter,omitempty"`
	Endpoint          string                    `json:"endpoint"`
}

// StorageGridEventSource receives NetApp StorageGRID bucket notifications.
type StorageGridEventSource struct {
	Webhook   *WebhookContext           `json:"webhook,omitempty"`
	Events    []string                  `json:"events,omitempty"`
	Filter    *StorageGridFilter        `json:"filter,omitempty"`
	TopicArn  string                    `json:"topicArn"`
	Bucket    string                    `json:"bucket"`
	Region    string                    `json:"region,omitempty"`
	AuthToken *corev1.SecretKeySelector `json:"authToken"`
	APIURL    string                    `json:"apiURL"`
	Metadata  map[string]string         `json:"metadata,omitempty"`
}

// StorageGridFilter restricts notifications by object key prefix and suffix.
type StorageGridFilter struct {
	Prefix string `json:"prefix"`
	Suffix string `json:"suffix"`
}

// StripeEventSource receives Stripe webhooks.
type StripeEventSource struct {
	Webhook       *WebhookContext           `json:"webhook,omitempty"`
	CreateWebhook bool                      `json:"createWebhook,omitempty"`
	APIKey        *corev1.SecretKeySelector `json:"apiKey,omitempty"`
	EventFilter   []string                  `json:"eventFilter,omitempty"`
	Metadata      map[string]string         `json:"metadata,omitempty"`
}
