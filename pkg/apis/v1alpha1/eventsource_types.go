package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// EventSource turns external occurrences into events; each type key holds named entries.
type EventSource struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              EventSourceSpec   `json:"spec"`
	Status            EventSourceStatus `json:"status,omitempty"`
}

// EventSourceList is a list of EventSources.
type EventSourceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []EventSource `json:"items"`
}

// EventSourceStatus is the observed state of an EventSource.
type EventSourceStatus struct {
	Status `json:",inline"`
}

// Event source type keys: the keys of EventSourceSpec that hold named entries,
// spelled as in the YAML.
const (
	TypeWebhook           = "webhook"
	TypeGithub            = "github"
	TypeGitlab            = "gitlab"
	TypeBitbucket         = "bitbucket"
	TypeBitbucketServer   = "bitbucketserver"
	TypeGerrit            = "gerrit"
	TypeSlack             = "slack"
	TypeSNS               = "sns"
	TypeStorageGrid       = "storageGrid"
	TypeStripe            = "stripe"
	TypeAMQP              = "amqp"
	TypeKafka             = "kafka"
	TypeMQTT              = "mqtt"
	TypeNATS              = "nats"
	TypeSQS               = "sqs"
	TypePubSub            = "pubSub"
	TypeAzureEventsHub    = "azureEventsHub"
	TypeAzureServiceBus   = "azureServiceBus"
	TypeAzureQueueStorage = "azureQueueStorage"
	TypeEmitter           = "emitter"
	TypeRedis             = "redis"
	TypeRedisStream       = "redisStream"
	TypeNSQ               = "nsq"
	TypePulsar            = "pulsar"
	TypeMNS               = "mns"
	TypeMinio             = "minio"
	TypeGeneric           = "generic"
	TypeCalendar          = "calendar"
	TypeResource          = "resource"
	TypeFile              = "file"
	TypeHDFS              = "hdfs"
	TypeSFTP              = "sftp"
)

// EventSourceSpec is the desired state of an EventSource: pod settings plus one
// map per source type, keyed by event name.
type EventSourceSpec struct {
	// EventBusName names the event bus; "default" when empty.
	EventBusName string `json:"eventBusName,omitempty"`
	// Template is the pod template.
	Template *Template `json:"template,omitempty"`
	// Service exposes push endpoints.
	Service *Service `json:"service,omitempty"`
	// Replicas is the number of replicas.
	Replicas *int32 `json:"replicas,omitempty"`

	Minio             map[string]S3Artifact                   `json:"minio,omitempty"`
	Calendar          map[string]CalendarEventSource          `json:"calendar,omitempty"`
	File              map[string]FileEventSource              `json:"file,omitempty"`
	Resource          map[string]ResourceEventSource          `json:"resource,omitempty"`
	Webhook           map[string]WebhookEventSource           `json:"webhook,omitempty"`
	AMQP              map[string]AMQPEventSource              `json:"amqp,omitempty"`
	Kafka             map[string]KafkaEventSource             `json:"kafka,omitempty"`
	MQTT              map[string]MQTTEventSource              `json:"mqtt,omitempty"`
	NATS              map[string]NATSEventsSource             `json:"nats,omitempty"`
	SNS               map[string]SNSEventSource               `json:"sns,omitempty"`
	SQS               map[string]SQSEventSource               `json:"sqs,omitempty"`
	PubSub            map[string]PubSubEventSource            `json:"pubSub,omitempty"`
	Github            map[string]GithubEventSource            `json:"github,omitempty"`
	Gitlab            map[string]GitlabEventSource            `json:"gitlab,omitempty"`
	HDFS              map[string]HDFSEventSource              `json:"hdfs,omitempty"`
	Slack             map[string]SlackEventSource             `json:"slack,omitempty"`
	StorageGrid       map[string]StorageGridEventSource       `json:"storageGrid,omitempty"`
	AzureEventsHub    map[string]AzureEventsHubEventSource    `json:"azureEventsHub,omitempty"`
	Stripe            map[string]StripeEventSource            `json:"stripe,omitempty"`
	Emitter           map[string]EmitterEventSource           `json:"emitter,omitempty"`
	Redis             map[string]RedisEventSource             `json:"redis,omitempty"`
	NSQ               map[string]NSQEventSource               `json:"nsq,omitempty"`
	Pulsar            map[string]PulsarEventSource            `json:"pulsar,omitempty"`
	Generic           map[string]GenericEventSource           `json:"generic,omitempty"`
	BitbucketServer   map[string]BitbucketServerEventSource   `json:"bitbucketserver,omitempty"`
	Bitbucket         map[string]BitbucketEventSource         `json:"bitbucket,omitempty"`
	RedisStream       map[string]RedisStreamEventSource       `json:"redisStream,omitempty"`
	AzureServiceBus   map[string]AzureServiceBusEventSource   `json:"azureServiceBus,omitempty"`
	AzureQueueStorage map[string]AzureQueueStorageEventSource `json:"azureQueueStorage,omitempty"`
	SFTP              map[string]SFTPEventSource              `json:"sftp,omitempty"`
	Gerrit            map[string]GerritEventSource            `json:"gerrit,omitempty"`
	MNS               map[string]MNSEventSource               `json:"mns,omitempty"`
}

// GetReplicas returns the number of replicas to run: Replicas, at least 1.
func (s EventSourceSpec) GetReplicas() int32 {
	if s.Replicas == nil || *s.Replicas < 1 {
		return 1
	}
	return *s.Replicas
}
