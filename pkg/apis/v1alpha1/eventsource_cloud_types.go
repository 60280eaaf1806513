package v1alpha1

import corev1 "k8s.io/api/core/v1"

// SQSEventSource polls an AWS SQS queue.
type SQSEventSource struct {
	AccessKey       *corev1.SecretKeySelector `json:"accessKey,omitempty"`
	SecretKey       *corev1.SecretKeySelector `json:"secretKey,omitempty"`
	Region          string                    `json:"region"`
	Queue           string                    `json:"queue"`
	WaitTimeSeconds int64                     `json:"waitTimeSeconds"`
	RoleARN         string                    `json:"roleARN,omitempty"`
	JSONBody        bool                      `json:"jsonBody,omitempty"`
	QueueAccountID  string                    `json:"queueAccountId,omitempty"`
	Metadata        map[string]string         `json:"metadata,omitempty"`
	DLQ             bool                      `json:"dlq,omitempty"`
	Filter          *EventSourceFilter        `json:"filter,omitempty"`
	Endpoint        string                    `json:"endpoint"`
	SessionToken    *corev1.SecretKeySelector `json:"sessionToken,omitempty"`
}

// PubSubEventSource pulls from a GCP Pub/Sub subscription.
type PubSubEventSource struct {
	ProjectID                  string                    `json:"projectID"`
	TopicProjectID             string                    `json:"topicProjectID"`
	Topic                      string                    `json:"topic"`
	SubscriptionID             string                    `json:"subscriptionID"`
	CredentialSecret           *corev1.SecretKeySelector `json:"credentialSecret,omitempty"`
	DeleteSubscriptionOnFinish bool                      `json:"deleteSubscriptionOnFinish,omitempty"`
	JSONBody                   bool                      `json:"jsonBody,omitempty"`
	Metadata                   map[string]string         `json:"metadata,omitempty"`
	Filter                     *EventSourceFilter        `json:"filter,omitempty"`
}

// AzureEventsHubEventSource consumes an Azure Event Hub.
type AzureEventsHubEventSource struct {
	FQDN                string                    `json:"fqdn"`
	SharedAccessKeyName *corev1.SecretKeySelector `json:"sharedAccessKeyName,omitempty"`
	SharedAccessKey     *corev1.SecretKeySelector `json:"sharedAccessKey,omitempty"`
	HubName             string                    `json:"hubName"`
	Metadata            map[string]string         `json:"metadata,omitempty"`
	Filter              *EventSourceFilter        `json:"filter,omitempty"`
}

// AzureServiceBusEventSource consumes an Azure Service Bus queue or topic subscription.
type AzureServiceBusEventSource struct {
	ConnectionString        *corev1.SecretKeySelector `json:"connectionString,omitempty"`
	QueueName               string                    `json:"queueName"`
	TopicName               string                    `json:"topicName"`
	SubscriptionName        string                    `json:"subscriptionName"`
	TLS                     *TLSConfig                `json:"tls,omitempty"`
	JSONBody                bool                      `json:"jsonBody,omitempty"`
	Metadata                map[string]string         `json:"metadata,omitempty"`
	Filter                  *EventSourceFilter        `json:"filter,omitempty"`
	FullyQualifiedNamespace string                    `json:"fullyQualifiedNamespace,omitempty"`
}

// AzureQueueStorageEventSource polls an Azure Storage queue.
type AzureQueueStorageEventSource struct {
	StorageAccountName string                    `json:"storageAccountName,omitempty"`
	ConnectionString   *corev1.SecretKeySelector `json:"connectionString,omitempty"`
	QueueName          string                    `json:"queueName"`
	JSONBody           bool                      `json:"jsonBody,omitempty"`
	DLQ                bool                      `json:"dlq,omitempty"`
	Metadata           map[string]string         `json:"metadata,omitempty"`
	Filter             *EventSourceFilter        `json:"filter,omitempty"`
	DecodeMessage      bool                      `json:"decodeMessage,omitempty"`
	WaitTimeInSeconds  *int32                    `json:"waitTimeInSeconds,omitempty"`
}

// MNSEventSource polls an Alibaba Cloud MNS queue.
type MNSEventSource struct {
	AccessKey *corev1.SecretKeySelector `json:"accessKey,omitempty"`
	SecretKey *corev1.SecretKeySelector `json:"secretKey,omitempty"`
	Queue     string                    `json:"queue"`
	JSONBody  bool                      `json:"jsonBody,omitempty"`
	Endpoint  string                    `json:"endpoint"`
	Filter    *EventSourceFilter        `json:"filter,omitempty"`
}
