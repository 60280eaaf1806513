package v1alpha1

import corev1 "k8s.io/api/core/v1"

// AMQPEventSource consumes messages from a RabbitMQ/AMQP exchange.
type AMQPEventSource struct {
	URL               string                     `json:"url,omitempty"`
	ExchangeName      string                     `json:"exchangeName"`
	ExchangeType      string                     `json:"exchangeType"`
	RoutingKey        string                     `json:"routingKey"`
	ConnectionBackoff *Backoff                   `json:"connectionBackoff,omitempty"`
	JSONBody          bool                       `json:"jsonBody,omitempty"`
	TLS               *TLSConfig                 `json:"tls,omitempty"`
	Metadata          map[string]string          `json:"metadata,omitempty"`
	ExchangeDeclare   *AMQPExchangeDeclareConfig `json:"exchangeDeclare,omitempty"`
	QueueDeclare      *AMQPQueueDeclareConfig    `json:"queueDeclare,omitempty"`
	QueueBind         *AMQPQueueBindConfig       `json:"queueBind,omitempty"`
	Consume           *AMQPConsumeConfig         `json:"consume,omitempty"`
	Auth              *BasicAuth                 `json:"auth,omitempty"`
	URLSecret         *corev1.SecretKeySelector  `json:"urlSecret,omitempty"`
	Filter            *EventSourceFilter         `json:"filter,omitempty"`
}

// AMQPExchangeDeclareConfig configures the declared exchange.
type AMQPExchangeDeclareConfig struct {
	Durable    bool `json:"durable,omitempty"`
	AutoDelete bool `json:"autoDelete,omitempty"`
	Internal   bool `json:"internal,omitempty"`
	NoWait     bool `json:"noWait,omitempty"`
}

// AMQPQueueDeclareConfig configures the declared queue.
type AMQPQueueDeclareConfig struct {
	Name       string `json:"name,omitempty"`
	Durable    bool   `json:"durable,omitempty"`
	AutoDelete bool   `json:"autoDelete,omitempty"`
	Exclusive  bool   `json:"exclusive,omitempty"`
	NoWait     bool   `json:"noWait,omitempty"`
	Arguments  string `json:"arguments,omitempty"`
}

// AMQPQueueBindConfig configures the queue binding.
type AMQPQueueBindConfig struct {
	NoWait bool `json:"noWait,omitempty"`
}

// AMQPConsumeConfig configures the consumer.
type AMQPConsumeConfig struct {
	ConsumerTag string `json:"consumerTag,omitempty"`
	AutoAck     bool   `json:"autoAck,omitempty"`
	Exclusive   bool   `json:"exclusive,omitempty"`
	NoLocal     bool   `json:"noLocal,omitempty"`
	NoWait      bool   `json:"noWait,omitempty"`
}

// KafkaEventSource consumes a Kafka topic.
type KafkaEventSource struct {
	URL                  string                `json:"url"`
	Partition            string                `json:"partition"`
	Topic                string                `json:"topic"`
	ConnectionBackoff    *Backoff              `json:"connectionBackoff,omitempty"`
	TLS                  *TLSConfig            `json:"tls,omitempty"`
	JSONBody             bool                  `json:"jsonBody,omitempty"`
	Metadata             map[string]string     `json:"metadata,omitempty"`
	ConsumerGroup        *KafkaConsumerGroup   `json:"consumerGroup,omitempty"`
	LimitEventsPerSecond int64                 `json:"limitEventsPerSecond,omitempty"`
	Version              string                `json:"version"`
	SASL                 *SASLConfig           `json:"sasl,omitempty"`
	Filter               *EventSourceFilter    `json:"filter,omitempty"`
	Config               string                `json:"config,omitempty"`
	SchemaRegistry       *SchemaRegistryConfig `json:"schemaRegistry,omitempty"`
}

// KafkaConsumerGroup configures a Kafka consumer group.
type KafkaConsumerGroup struct {
	GroupName         string `json:"groupName"`
	Oldest            bool   `json:"oldest,omitempty"`
	RebalanceStrategy string `json:"rebalanceStrategy"`
}

// MQTTEventSource subscribes to an MQTT topic.
type MQTTEventSource struct {
	URL               string             `json:"url"`
	Topic             string             `json:"topic"`
	ClientID          string             `json:"clientId"`
	ConnectionBackoff *Backoff           `json:"connectionBackoff,omitempty"`
	JSONBody          bool               `json:"jsonBody,omitempty"`
	TLS               *TLSConfig         `json:"tls,omitempty"`
	Metadata          map[string]string  `json:"metadata,omitempty"`
	Filter            *EventSourceFilter `json:"filter,omitempty"`
	Auth              *BasicAuth         `json:"auth,omitempty"`
}

// NATSEventsSource subscribes to a NATS subject (the type name is Argo's).
type NATSEventsSource struct {
	URL               string             `json:"url"`
	Subject           string             `json:"subject"`
	ConnectionBackoff *Backoff           `json:"connectionBackoff,omitempty"`
	JSONBody          bool               `json:"jsonBody,omitempty"`
	TLS               *TLSConfig         `json:"tls,omitempty"`
	Metadata          map[string]string  `json:"metadata,omitempty"`
	Auth              *NATSAuth          `json:"auth,omitempty"`
	Filter            *EventSourceFilter `json:"filter,omitempty"`
	Queue             *string            `json:"queue"`
}

// NSQEventSource subscribes to an NSQ topic through a channel.
type NSQEventSource struct {
	HostAddress       string             `json:"hostAddress"`
	Topic             string             `json:"topic"`
	Channel           string             `json:"channel"`
	ConnectionBackoff *Backoff           `json:"connectionBackoff,omitempty"`
	JSONBody          bool               `json:"jsonBody,omitempty"`
	TLS               *TLSConfig         `json:"tls,omitempty"`
	Metadata          map[string]string  `json:"metadata,omitempty"`
	Filter            *EventSourceFilter `json:"filter,omitempty"`
}

// PulsarEventSource subscribes to Apache Pulsar topics.
type PulsarEventSource struct {
	Topics                     []string                  `json:"topics"`
	Type                       string                    `json:"type,omitempty"`
	URL                        string                    `json:"url"`
	TLSTrustCertsSecret        *corev1.SecretKeySelector `json:"tlsTrustCertsSecret,omitempty"`
	TLSAllowInsecureConnection bool                      `json:"tlsAllowInsecureConnection,omitempty"`
	TLSValidateHostname        bool                      `json:"tlsValidateHostname,omitempty"`
	TLS                        *TLSConfig                `json:"tls,omitempty"`
	ConnectionBackoff          *Backoff                  `json:"connectionBackoff,omitempty"`
	JSONBody                   bool                      `json:"jsonBody,omitempty"`
	Metadata                   map[string]string         `json:"metadata,omitempty"`
	AuthTokenSecret            *corev1.SecretKeySelector `json:"authTokenSecret,omitempty"`
	Filter                     *EventSourceFilter        `json:"filter,omitempty"`
	AuthAthenzParams           map[string]string         `json:"authAthenzParams,omitempty"`
	AuthAthenzSecret           *corev1.SecretKeySelector `json:"authAthenzSecret,omitempty"`
}

// EmitterEventSource subscribes to an emitter.io channel.
type EmitterEventSource struct {
	Broker            string                    `json:"broker"`
	ChannelKey        string                    `json:"channelKey"`
	ChannelName       string                    `json:"channelName"`
	Username          *corev1.SecretKeySelector `json:"username,omitempty"`
	Password          *corev1.SecretKeySelector `json:"password,omitempty"`
	ConnectionBackoff *Backoff                  `json:"connectionBackoff,omitempty"`
	JSONBody          bool                      `json:"jsonBody,omitempty"`
	TLS               *TLSConfig                `json:"tls,omitempty"`
	Metadata          map[string]string         `json:"metadata,omitempty"`
	Filter            *EventSourceFilter        `json:"filter,omitempty"`
}

// RedisEventSource subscribes to Redis pub/sub channels.
type RedisEventSource struct {
	HostAddress string                    `json:"hostAddress"`
	Password    *corev1.SecretKeySelector `json:"password,omitempty"`
	Namespace   string                    `json:"namespace,omitempty"`
	DB          int32                     `json:"db,omitempty"`
	Channels    []string                  `json:"channels"`
	TLS         *TLSConfig                `json:"tls,omitempty"`
	Metadata    map[string]string         `json:"metadata,omitempty"`
	Filter      *EventSourceFilter        `json:"filter,omitempty"`
	JSONBody    bool                      `json:"jsonBody,omitempty"`
	Username    string                    `json:"username,omitempty"`
}

// RedisStreamEventSource reads Redis streams through a consumer group.
type RedisStreamEventSource struct {
	HostAddress        string                    `json:"hostAddress"`
	Password           *corev1.SecretKeySelector `json:"password,omitempty"`
	DB                 int32                     `json:"db,omitempty"`
	Streams            []string                  `json:"streams"`
	MaxMsgCountPerRead int32                     `json:"maxMsgCountPerRead,omitempty"`
	ConsumerGroup      string                    `json:"consumerGroup,omitempty"`
	TLS                *TLSConfig                `json:"tls,omitempty"`
	Metadata           map[string]string         `json:"metadata,omitempty"`
	Filter             *EventSourceFilter        `json:"filter,omitempty"`
	Username           string                    `json:"username,omitempty"`
}
