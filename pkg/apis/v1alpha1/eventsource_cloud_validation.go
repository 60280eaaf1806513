package v1alpha1

import "knative.dev/pkg/apis"

// validate checks one entry of its type key; paths are relative to the entry.
func (q *SQSEventSource) validate() *apis.FieldError {
	errs := validateFilter(q.Filter).Also(
		requireString(q.Region, "region"),
		requireString(q.Queue, "queue"),
		validateSecretRef(q.AccessKey, "accessKey"),
		validateSecretRef(q.SecretKey, "secretKey"),
		validateSecretRef(q.SessionToken, "sessionToken"))
	if q.WaitTimeSeconds < 0 || q.WaitTimeSeconds > 20 {
		errs = errs.Also(apis.ErrOutOfBoundsValue(q.WaitTimeSeconds, 0, 20, "waitTimeSeconds"))
	}
	return errs
}

// validate checks one entry of its type key; paths are relative to the entry.
func (p *PubSubEventSource) validate() *apis.FieldError {
	errs := validateFilter(p.Filter).Also(validateSecretRef(p.CredentialSecret, "credentialSecret"))
	if p.Topic == "" && p.SubscriptionID == "" {
		errs = errs.Also(expectedAnyOf("topic", "subscriptionID"))
	}
	if p.TopicProjectID != "" && p.Topic == "" {
		errs = errs.Also(missingBecause("topic", "required with topicProjectID"))
	}
	return errs
}

// validate checks one entry of its type key; paths are relative to the entry.
func (a *AzureEventsHubEventSource) validate() *apis.FieldError {
	return validateFilter(a.Filter).Also(
		requireString(a.FQDN, "fqdn"),
		requireString(a.HubName, "hubName"),
		validateSecretRef(a.SharedAccessKeyName, "sharedAccessKeyName"),
		validateSecretRef(a.SharedAccessKey, "sharedAccessKey"))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (a *AzureServiceBusEventSource) validate() *apis.FieldError {
	errs := validateFilter(a.Filter).Also(
		validateSecretRef(a.ConnectionString, "connectionString"),
		validateTLS(a.TLS, "tls"))
	if a.ConnectionString == nil && a.FullyQualifiedNamespace == "" {
		errs = errs.Also(expectedAnyOf("connectionString", "fullyQualifiedNamespace"))
	}
	return errs.Also(validateQueueOrTopic(a.QueueName, a.TopicName, a.SubscriptionName))
}

// validate checks one entry of its type key; paths are relative to the entry.
func (a *AzureQueueStorageEventSource) validate() *apis.FieldError {
	errs := validateFilter(a.Filter).Also(
		requireString(a.QueueName, "queueName"),
		validateSecretRef(a.ConnectionString, "connectionString"))
	if a.ConnectionString == nil && a.StorageAccountName == "" {
		errs = errs.Also(expectedAnyOf("connectionString", "storageAccountName"))
	}
	if a.WaitTimeInSeconds != nil && *a.WaitTimeInSeconds < 0 {
		errs = errs.Also(apis.ErrInvalidValue(*a.WaitTimeInSeconds, "waitTimeInSeconds", "must not be negative"))
	}
	return errs
}

// validate checks one entry of its type key; paths are relative to the entry.
func (m *MNSEventSource) validate() *apis.FieldError {
	return validateFilter(m.Filter).Also(
		requireString(m.Queue, "queue"),
		requireString(m.Endpoint, "endpoint"),
		requireSecretRef(m.AccessKey, "accessKey"),
		requireSecretRef(m.SecretKey, "secretKey"))
}

// validateMinio checks one minio entry; paths are relative to the entry.
func (m *S3Artifact) validateMinio() *apis.FieldError {
	return m.validate().Also(validateSecretRef(m.CACertificate, "caCertificate"))
}

// validate checks what every S3 location needs: an endpoint, both keys and
// a bucket name; paths are relative to the location.
func (s *S3Artifact) validate() *apis.FieldError {
	errs := requireString(s.Endpoint, "endpoint").Also(
		requireSecretRef(s.AccessKey, "accessKey"),
		requireSecretRef(s.SecretKey, "secretKey"))
	if s.Bucket == nil {
		return errs.Also(apis.ErrMissingField("bucket"))
	}
	return errs.Also(requireString(s.Bucket.Name, "bucket.name"))
}
