package v1alpha1

import "knative.dev/pkg/apis"

// validate checks one entry of its type key; paths are relative to the entry.
func (a *AMQPEventSource) validate() *apis.FieldError {
	errs := validateFilter(a.Filter).Also(
		requireString(a.ExchangeName, "exchangeName"),
		requireString(a.ExchangeType, "exchangeType"),
		requireString(a.RoutingKey, "routingKey"),
		validateSecretRef(a.URLSecret, "urlSecret"),
		validateBasicAuth(a.Auth, "auth"),
		validateTLS(a.TLS, "tls"),
		validateBackoff(a.ConnectionBackoff, "connectionBackoff"))
	switch {
	case a.URL == "" && a.URLSecret == nil:
		errs = errs.Also(apis.ErrMissingOneOf("url", "urlSecret"))
	case a.URL != "" && a.URLSecret != nil:
		errs = errs.Also(apis.ErrMultipleOneOf("url", "urlSecret"))
	}
	return errs
}

// validate checks one entry of its type key; paths are relative to the entry.
func (k *KafkaEventSource) validate() *apis.FieldError {
	errs := validateFilter(k.Filter).Also(
		requireString(k.URL, "url"),
		requireString(k.Topic, "topic"),
		validateTLS(k.TLS, "tls"),
		validateSASL(k.SASL, "sasl"),
		validateBackoff(k.ConnectionBackoff, "connectionBackoff"))
	if k.Partition == "" && k.ConsumerGroup == nil {
		errs = errs.Also(missingBecause("partition", "required without consumerGroup"))
	}
	if g := k.ConsumerGroup; g != nil {
		errs = errs.Also(requireString(g.GroupName, "groupName").Also(
			oneOf(g.RebalanceStrategy, "rebalanceStrategy", []string{"", "sticky", "roundrobin", "range"})).
			ViaField("consumerGroup"))
	}
	if k.LimitEventsPerSecond < 0 {
		errs = errs.Also(apis.ErrInvalidValue(k.LimitEventsPerSecond, "limitEventsPerSecond", "must not be negative"))
	}
	return errs
}

// validate checks one entry of its type key; paths are relative to the entry.
func (m *MQTTEventSource) validate() *apis.FieldError {
	return validateFilter(m.Filter).Also(
		requireString(m.URL, "url"),
		requireString(m.Topic, "topic"),
		requireString(m.ClientID, "clientId"),
		validateTLS(m.TLS, "tls"),
		validateBasicAuth(m.Auth, "auth"),
		validateBackoff(m.ConnectionBackoff, "connectionBackoff"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (n *NATSEventsSource) validate() *apis.FieldError {
	return validateFilter(n.Filter).Also(
		requireString(n.URL, "url"),
		requireString(n.Subject, "subject"),
		validateTLS(n.TLS, "tls"),
		validateNATSAuth(n.Auth, "auth"),
		validateBackoff(n.ConnectionBackoff, "connectionBackoff"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (n *NSQEventSource) validate() *apis.FieldError {
	return validateFilter(n.Filter).Also(
		requireString(n.HostAddress, "hostAddress"),
		requireString(n.Topic, "topic"),
		requireString(n.Channel, "channel"),
		validateTLS(n.TLS, "tls"),
		validateBackoff(n.ConnectionBackoff, "connectionBackoff"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (p *PulsarEventSource) validate() *apis.FieldError {
	return validateFilter(p.Filter).Also(
		requireString(p.URL, "url"),
		requireList(len(p.Topics), "topics"),
		oneOf(p.Type, "type", []string{"", "exclusive", "shared"}),
		validatePulsarAuth(p.TLS, p.TLSTrustCertsSecret, p.AuthTokenSecret, p.AuthAthenzSecret, p.AuthAthenzParams),
		validateBackoff(p.ConnectionBackoff, "connectionBackoff"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (e *EmitterEventSource) validate() *apis.FieldError {
	return validateFilter(e.Filter).Also(
		requireString(e.Broker, "broker"),
		requireString(e.ChannelKey, "channelKey"),
		requireString(e.ChannelName, "channelName"),
		validateSecretRef(e.Username, "username"),
		validateSecretRef(e.Password, "password"),
		validateTLS(e.TLS, "tls"),
		validateBackoff(e.ConnectionBackoff, "connectionBackoff"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (r *RedisEventSource) validate() *apis.FieldError {
	return validateFilter(r.Filter).Also(
		requireString(r.HostAddress, "hostAddress"),
		requireList(len(r.Channels), "channels"),
		validateSecretRef(r.Password, "password"),
		validateTLS(r.TLS, "tls"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (r *RedisStreamEventSource) validate() *apis.FieldError {
	errs := validateFilter(r.Filter).Also(
		requireString(r.HostAddress, "hostAddress"),
		requireList(len(r.Streams), "streams"),
		validateSecretRef(r.Password, "password"),
		validateTLS(r.TLS, "tls"))
	if r.MaxMsgCountPerRead < 0 {
		errs = errs.Also(apis.ErrInvalidValue(r.MaxMsgCountPerRead, "maxMsgCountPerRead", "must not be negative"))
	}
	return errs
}
