package v1alpha1

import (
	"sort"

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

// entryCounts maps every type key to the number of entries under it.
func (s *EventSourceSpec) entryCounts() map[string]int {
	return map[string]int{
		TypeWebhook: len(s.Webhook), TypeGithub: len(s.Github), TypeGitlab: len(s.Gitlab),
		TypeBitbucket: len(s.Bitbucket), TypeBitbucketServer: len(s.BitbucketServer),
		TypeGerrit: len(s.Gerrit), TypeSlack: len(s.Slack), TypeSNS: len(s.SNS),
		TypeStorageGrid: len(s.StorageGrid), TypeStripe: len(s.Stripe), TypeAMQP: len(s.AMQP),
		TypeKafka: len(s.Kafka), TypeMQTT: len(s.MQTT), TypeNATS: len(s.NATS), TypeSQS: len(s.SQS),
		TypePubSub: len(s.PubSub), TypeAzureEventsHub: len(s.AzureEventsHub),
		TypeAzureServiceBus: len(s.AzureServiceBus), TypeAzureQueueStorage: len(s.AzureQueueStorage),
		TypeEmitter: len(s.Emitter), TypeRedis: len(s.Redis), TypeRedisStream: len(s.RedisStream),
		TypeNSQ: len(s.NSQ), TypePulsar: len(s.Pulsar), TypeMNS: len(s.MNS), TypeMinio: len(s.Minio),
		TypeGeneric: len(s.Generic), TypeCalendar: len(s.Calendar), TypeResource: len(s.Resource),
		TypeFile: len(s.File), TypeHDFS: len(s.HDFS), TypeSFTP: len(s.SFTP),
	}
}

// EventSourceTypeKeys lists every event source type key, sorted.
func EventSourceTypeKeys() []string {
	var s EventSourceSpec
	counts := s.entryCounts()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TypeKeys returns the type keys that hold at least one entry, sorted.
func (s *EventSourceSpec) TypeKeys() []string {
	var keys []string
	for k, n := range s.entryCounts() {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// EventNames returns the sorted entry names (event names) under a type key.
func (s *EventSourceSpec) EventNames(typeKey string) []string {
	var names []string
	add := func(n string) { names = append(names, n) }
	switch typeKey {
	case TypeWebhook:
		forKeys(s.Webhook, add)
	case TypeGithub:
		forKeys(s.Github, add)
	case TypeGitlab:
		forKeys(s.Gitlab, add)
	case TypeBitbucket:
		forKeys(s.Bitbucket, add)
	case TypeBitbucketServer:
		forKeys(s.BitbucketServer, add)
	case TypeGerrit:
		forKeys(s.Gerrit, add)
	case TypeSlack:
		forKeys(s.Slack, add)
	case TypeSNS:
		forKeys(s.SNS, add)
	case TypeStorageGrid:
		forKeys(s.StorageGrid, add)
	case TypeStripe:
		forKeys(s.Stripe, add)
	case TypeAMQP:
		forKeys(s.AMQP, add)
	case TypeKafka:
		forKeys(s.Kafka, add)
	case TypeMQTT:
		forKeys(s.MQTT, add)
	case TypeNATS:
		forKeys(s.NATS, add)
	case TypeSQS:
		forKeys(s.SQS, add)
	case TypePubSub:
		forKeys(s.PubSub, add)
	case TypeAzureEventsHub:
		forKeys(s.AzureEventsHub, add)
	case TypeAzureServiceBus:
		forKeys(s.AzureServiceBus, add)
	case TypeAzureQueueStorage:
		forKeys(s.AzureQueueStorage, add)
	case TypeEmitter:
		forKeys(s.Emitter, add)
	case TypeRedis:
		forKeys(s.Redis, add)
	case TypeRedisStream:
		forKeys(s.RedisStream, add)
	case TypeNSQ:
		forKeys(s.NSQ, add)
	case TypePulsar:
		forKeys(s.Pulsar, add)
	case TypeMNS:
		forKeys(s.MNS, add)
	case TypeMinio:
		forKeys(s.Minio, add)
	case TypeGeneric:
		forKeys(s.Generic, add)
	case TypeCalendar:
		forKeys(s.Calendar, add)
	case TypeResource:
		forKeys(s.Resource, add)
	case TypeFile:
		forKeys(s.File, add)
	case TypeHDFS:
		forKeys(s.HDFS, add)
	case TypeSFTP:
		forKeys(s.SFTP, add)
	}
	sort.Strings(names)
	return names
}

// TypeOf returns the type key under which an event name is defined, or "" if none.
func (s *EventSourceSpec) TypeOf(eventName string) string {
	for _, k := range s.TypeKeys() {
		for _, n := range s.EventNames(k) {
			if n == eventName {
				return k
			}
		}
	}
	return ""
}

func forKeys[V any](m map[string]V, fn func(string)) {
	for k := range m {
		fn(k)
	}
}

// GetReplicas returns the number of replicas to run: Replicas, at least 1.
func (s EventSourceSpec) GetReplicas() int32 {
	if s.Replicas == nil || *s.Replicas < 1 {
		return 1
	}
	return *s.Replicas
}
