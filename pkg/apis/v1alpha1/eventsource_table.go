package v1alpha1

import (
	"fmt"
	"sort"

	"knative.dev/pkg/apis"
)

// eventSourceType is one row of the EventSource type table: how to reach and
// check the entries under one type key of EventSourceSpec. Adding a type is
// adding a row.
type eventSourceType struct {
	key string
	// names lists the entry names, unsorted.
	names func(*EventSourceSpec) []string
	// drop removes one entry.
	drop func(*EventSourceSpec, string)
	// validate checks every entry; paths are relative to the spec.
	validate func(*EventSourceSpec) *apis.FieldError
	// webhook returns the webhook context of the entry, nil when the type or
	// the entry has none; edits through the pointer are kept by commit.
	webhook func(*EventSourceSpec, string) *WebhookContext
	// commit stores back the entry edited through webhook (map values are copies).
	commit func(*EventSourceSpec, string, *WebhookContext)
	// webhookPath is where the webhook context sits in an entry: "" when inline.
	webhookPath string
}

// eventSourceTypes is the EventSource type table, sorted by key.
var eventSourceTypes = sortedRows(
	pushType(TypeWebhook, func(s *EventSourceSpec) map[string]WebhookEventSource { return s.Webhook },
		(*WebhookEventSource).validate, func(w *WebhookEventSource) *WebhookContext { return &w.WebhookContext }, ""),
	pushType(TypeGithub, func(s *EventSourceSpec) map[string]GithubEventSource { return s.Github },
		(*GithubEventSource).validate, func(g *GithubEventSource) *WebhookContext { return g.Webhook }, ".webhook"),
	pushType(TypeGitlab, func(s *EventSourceSpec) map[string]GitlabEventSource { return s.Gitlab },
		(*GitlabEventSource).validate, func(g *GitlabEventSource) *WebhookContext { return g.Webhook }, ".webhook"),
	pushType(TypeBitbucket, func(s *EventSourceSpec) map[string]BitbucketEventSource { return s.Bitbucket },
		(*BitbucketEventSource).validate, func(b *BitbucketEventSource) *WebhookContext { return b.Webhook }, ".webhook"),
	pushType(TypeBitbucketServer, func(s *EventSourceSpec) map[string]BitbucketServerEventSource { return s.BitbucketServer },
		(*BitbucketServerEventSource).validate, func(b *BitbucketServerEventSource) *WebhookContext { return b.Webhook }, ".webhook"),
	pushType(TypeGerrit, func(s *EventSourceSpec) map[string]GerritEventSource { return s.Gerrit },
		(*GerritEventSource).validate, func(g *GerritEventSource) *WebhookContext { return g.Webhook }, ".webhook"),
	pushType(TypeSlack, func(s *EventSourceSpec) map[string]SlackEventSource { return s.Slack },
		(*SlackEventSource).validate, func(sl *SlackEventSource) *WebhookContext { return sl.Webhook }, ".webhook"),
	pushType(TypeSNS, func(s *EventSourceSpec) map[string]SNSEventSource { return s.SNS },
		(*SNSEventSource).validate, func(sn *SNSEventSource) *WebhookContext { return sn.Webhook }, ".webhook"),
	pushType(TypeStorageGrid, func(s *EventSourceSpec) map[string]StorageGridEventSource { return s.StorageGrid },
		(*StorageGridEventSource).validate, func(sg *StorageGridEventSource) *WebhookContext { return sg.Webhook }, ".webhook"),
	pushType(TypeStripe, func(s *EventSourceSpec) map[string]StripeEventSource { return s.Stripe },
		(*StripeEventSource).validate, func(st *StripeEventSource) *WebhookContext { return st.Webhook }, ".webhook"),

	entryType(TypeAMQP, func(s *EventSourceSpec) map[string]AMQPEventSource { return s.AMQP }, (*AMQPEventSource).validate),
	entryType(TypeKafka, func(s *EventSourceSpec) map[string]KafkaEventSource { return s.Kafka }, (*KafkaEventSource).validate),
	entryType(TypeMQTT, func(s *EventSourceSpec) map[string]MQTTEventSource { return s.MQTT }, (*MQTTEventSource).validate),
	entryType(TypeNATS, func(s *EventSourceSpec) map[string]NATSEventsSource { return s.NATS }, (*NATSEventsSource).validate),
	entryType(TypeNSQ, func(s *EventSourceSpec) map[string]NSQEventSource { return s.NSQ }, (*NSQEventSource).validate),
	entryType(TypePulsar, func(s *EventSourceSpec) map[string]PulsarEventSource { return s.Pulsar }, (*PulsarEventSource).validate),
	entryType(TypeEmitter, func(s *EventSourceSpec) map[string]EmitterEventSource { return s.Emitter }, (*EmitterEventSource).validate),
	entryType(TypeRedis, func(s *EventSourceSpec) map[string]RedisEventSource { return s.Redis }, (*RedisEventSource).validate),
	entryType(TypeRedisStream, func(s *EventSourceSpec) map[string]RedisStreamEventSource { return s.RedisStream },
		(*RedisStreamEventSource).validate),

	entryType(TypeSQS, func(s *EventSourceSpec) map[string]SQSEventSource { return s.SQS }, (*SQSEventSource).validate),
	entryType(TypePubSub, func(s *EventSourceSpec) map[string]PubSubEventSource { return s.PubSub }, (*PubSubEventSource).validate),
	entryType(TypeAzureEventsHub, func(s *EventSourceSpec) map[string]AzureEventsHubEventSource { return s.AzureEventsHub },
		(*AzureEventsHubEventSource).validate),
	entryType(TypeAzureServiceBus, func(s *EventSourceSpec) map[string]AzureServiceBusEventSource { return s.AzureServiceBus },
		(*AzureServiceBusEventSource).validate),
	entryType(TypeAzureQueueStorage, func(s *EventSourceSpec) map[string]AzureQueueStorageEventSource { return s.AzureQueueStorage },
		(*AzureQueueStorageEventSource).validate),
	entryType(TypeMNS, func(s *EventSourceSpec) map[string]MNSEventSource { return s.MNS }, (*MNSEventSource).validate),
	entryType(TypeMinio, func(s *EventSourceSpec) map[string]S3Artifact { return s.Minio }, (*S3Artifact).validateMinio),

	entryType(TypeCalendar, func(s *EventSourceSpec) map[string]CalendarEventSource { return s.Calendar }, (*CalendarEventSource).validate),
	entryType(TypeResource, func(s *EventSourceSpec) map[string]ResourceEventSource { return s.Resource }, (*ResourceEventSource).validate),
	entryType(TypeFile, func(s *EventSourceSpec) map[string]FileEventSource { return s.File }, (*FileEventSource).validate),
	entryType(TypeSFTP, func(s *EventSourceSpec) map[string]SFTPEventSource { return s.SFTP }, (*SFTPEventSource).validate),
	entryType(TypeHDFS, func(s *EventSourceSpec) map[string]HDFSEventSource { return s.HDFS }, (*HDFSEventSource).validate),
	entryType(TypeGeneric, func(s *EventSourceSpec) map[string]GenericEventSource { return s.Generic }, (*GenericEventSource).validate),
)

// entryType is the row of a type whose entries have no webhook.
func entryType[V any](key string, field func(*EventSourceSpec) map[string]V, validate func(*V) *apis.FieldError) eventSourceType {
	return pushType(key, field, validate, nil, "")
}

// pushType is the row of a type; webhook (nil for none) reaches an entry's
// webhook context, found at webhookPath within the entry.
func pushType[V any](key string, field func(*EventSourceSpec) map[string]V, validate func(*V) *apis.FieldError,
	webhook func(*V) *WebhookContext, webhookPath string) eventSourceType {
	row := eventSourceType{
		key: key,
		names: func(s *EventSourceSpec) []string {
			m := field(s)
			names := make([]string, 0, len(m))
			for n := range m {
				names = append(names, n)
			}
			return names
		},
		drop: func(s *EventSourceSpec, name string) { delete(field(s), name) },
		validate: func(s *EventSourceSpec) *apis.FieldError {
			return validateEntries(key, field(s), validate)
		},
		webhookPath: webhookPath,
	}
	if webhook == nil {
		row.webhook = func(*EventSourceSpec, string) *WebhookContext { return nil }
		row.commit = func(*EventSourceSpec, string, *WebhookContext) {}
		return row
	}
	row.webhook = func(s *EventSourceSpec, name string) *WebhookContext {
		v, ok := field(s)[name]
		if !ok {
			return nil
		}
		return webhook(&v)
	}
	row.commit = func(s *EventSourceSpec, name string, w *WebhookContext) {
		m := field(s)
		v, ok := m[name]
		if !ok || w == nil {
			return
		}
		*webhook(&v) = *w
		m[name] = v
	}
	return row
}

func (t eventSourceType) typeKey() string { return t.key }

// EventSourceTypeKeys lists every event source type key, sorted.
func EventSourceTypeKeys() []string { return rowKeys(eventSourceTypes) }

// TypeKeys returns the type keys that hold at least one entry, sorted.
func (s *EventSourceSpec) TypeKeys() []string {
	var keys []string
	for _, t := range eventSourceTypes {
		if len(t.names(s)) > 0 {
			keys = append(keys, t.key)
		}
	}
	return keys
}

// EventNames returns the sorted entry names (event names) under a type key.
func (s *EventSourceSpec) EventNames(typeKey string) []string {
	t, ok := findRow(eventSourceTypes, typeKey)
	if !ok {
		return nil
	}
	names := t.names(s)
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	return names
}

// KeepEntries removes, in place, the entries under typeKey whose names are
// not in names; it returns the names of names that typeKey holds no entry of.
func (s *EventSourceSpec) KeepEntries(typeKey string, names []string) (missing []string) {
	t, ok := findRow(eventSourceTypes, typeKey)
	if !ok {
		return names
	}
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	have := map[string]bool{}
	for _, n := range t.names(s) {
		have[n] = true
		if !keep[n] {
			t.drop(s, n)
		}
	}
	for _, n := range names {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	return missing
}

// TypeOf returns the type key under which an event name is defined, or "" if none.
func (s *EventSourceSpec) TypeOf(eventName string) string {
	for _, t := range eventSourceTypes {
		for _, n := range t.names(s) {
			if n == eventName {
				return t.key
			}
		}
	}
	return ""
}

// WebhookBindings lists the HTTP routes of every push entry, ordered by type key then event name.
func (s *EventSourceSpec) WebhookBindings() []WebhookBinding {
	var out []WebhookBinding
	for _, t := range eventSourceTypes {
		for _, n := range s.EventNames(t.key) {
			w := t.webhook(s, n)
			if w == nil {
				continue
			}
			out = append(out, WebhookBinding{TypeKey: t.key, EventName: n, Port: w.Port,
				Endpoint: w.Endpoint, Method: w.Method, Path: fmt.Sprintf("spec.%s[%s]%s", t.key, n, t.webhookPath)})
		}
	}
	return out
}
