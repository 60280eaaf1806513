package v1alpha1

import corev1 "k8s.io/api/core/v1"

// KafkaTrigger produces a message on a Kafka topic.
type KafkaTrigger struct {
	// URL lists the brokers, comma separated.
	URL string `json:"url"`
	// Topic is the topic to produce to.
	Topic string `json:"topic"`
	// Partition is deprecated and ignored.
	Partition int32 `json:"partition"`
	// Parameters are applied to this trigger's fields.
	Parameters []TriggerParameter `json:"parameters,omitempty"`
	// RequiredAcks is how many replicas acknowledge; 1 when zero.
	RequiredAcks int32 `json:"requiredAcks,omitempty"`
	// Compress turns snappy compression on.
	Compress bool `json:"compress,omitempty"`
	// FlushFrequency is the batch flush period in milliseconds; 500 when zero.
	FlushFrequency int32 `json:"flushFrequency,omitempty"`
	// TLS configures the client.
	TLS *TLSConfig `json:"tls,omitempty"`
	// Payload builds the message value.
	Payload []TriggerParameter `json:"payload"`
	// PartitioningKey is the message key.
	PartitioningKey *string `json:"partitioningKey,omitempty"`
	// Version is the Kafka protocol version.
	Version string `json:"version,omitempty"`
	// SASL configures authentication.
	SASL *SASLConfig `json:"sasl,omitempty"`
	// SchemaRegistry produces Avro messages with a registered schema.
	SchemaRegistry *SchemaRegistryConfig `json:"schemaRegistry,omitempty"`
	// Headers are added to the message.
	Headers map[string]string `json:"headers,omitempty"`
	// SecureHeaders are headers whose values come from secrets or config maps.
	SecureHeaders []*SecureHeader `json:"secureHeaders,omitempty"`
}

// SchemaRegistryConfig points at a schema registry.
type SchemaRegistryConfig struct {
	URL      string    `json:"url"`
	SchemaID int32     `json:"schemaId"`
	Auth     BasicAuth `json:"auth,omitempty"`
}

// NATSTrigger publishes a message on a NATS subject.
type NATSTrigger struct {
	// URL is the NATS server URL.
	URL string `json:"url"`
	// Subject is the subject to publish on.
	Subject string `json:"subject"`
	// Payload builds the message.
	Payload []TriggerParameter `json:"payload"`
	// Parameters are applied to this trigger's fields.
	Parameters []TriggerParameter `json:"parameters,omitempty"`
	// TLS configures the client.
	TLS *TLSConfig `json:"tls,omitempty"`
	// Auth configures authentication.
	Auth *NATSAuth `json:"auth,omitempty"`
}

// NATSAuth holds the credentials of a NATS connection; one member is set.
type NATSAuth struct {
	Basic      *BasicAuth                `json:"basic,omitempty"`
	Token      *corev1.SecretKeySelector `json:"token,omitempty"`
	NKey       *corev1.SecretKeySelector `json:"nkey,omitempty"`
	Credential *corev1.SecretKeySelector `json:"credential,omitempty"`
}

// PulsarTrigger produces a message on a Pulsar topic.
type PulsarTrigger struct {
	URL                        string                    `json:"url"`
	Topic                      string                    `json:"topic"`
	Parameters                 []TriggerParameter        `json:"parameters,omitempty"`
	Payload                    []TriggerParameter        `json:"payload"`
	TLSTrustCertsSecret        *corev1.SecretKeySelector `json:"tlsTrustCertsSecret,omitempty"`
	TLSAllowInsecureConnection bool                      `json:"tlsAllowInsecureConnection,omitempty"`
	TLSValidateHostname        bool                      `json:"tlsValidateHostname,omitempty"`
	TLS                        *TLSConfig                `json:"tls,omitempty"`
	AuthTokenSecret            *corev1.SecretKeySelector `json:"authTokenSecret,omitempty"`
	ConnectionBackoff          *Backoff                  `json:"connectionBackoff,omitempty"`
	AuthAthenzParams           map[string]string         `json:"authAthenzParams,omitempty"`
	AuthAthenzSecret           *corev1.SecretKeySelector `json:"authAthenzSecret,omitempty"`
}

// AzureEventHubsTrigger sends an event to an Azure Event Hub.
type AzureEventHubsTrigger struct {
	FQDN                string                    `json:"fqdn"`
	HubName             string                    `json:"hubName"`
	SharedAccessKeyName *corev1.SecretKeySelector `json:"sharedAccessKeyName"`
	SharedAccessKey     *corev1.SecretKeySelector `json:"sharedAccessKey,omitempty"`
	Payload             []TriggerParameter        `json:"payload"`
	Parameters          []TriggerParameter        `json:"parameters,omitempty"`
}

// AzureServiceBusTrigger sends a message to an Azure Service Bus queue or topic.
type AzureServiceBusTrigger struct {
	ConnectionString *corev1.SecretKeySelector `json:"connectionString,omitempty"`
	QueueName        string                    `json:"queueName"`
	TopicName        string                    `json:"topicName"`
	SubscriptionName string                    `json:"subscriptionName"`
	TLS              *TLSConfig                `json:"tls,omitempty"`
	Payload          []TriggerParameter        `json:"payload"`
	Parameters       []TriggerParameter        `json:"parameters,omitempty"`
}
