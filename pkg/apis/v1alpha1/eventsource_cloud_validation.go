package v1alpha1

import "knative.dev/pkg/apis"

func (s *EventSourceSpec) validateCloudSources() *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(validateEntries(TypeSQS, s.SQS, func(q *SQSEventSource) *apis.FieldError {
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
	}))
	errs = errs.Also(validateEntries(TypePubSub, s.PubSub, func(p *PubSubEventSource) *apis.FieldError {
		errs := validateFilter(p.Filter).Also(validateSecretRef(p.CredentialSecret, "credentialSecret"))
		if p.Topic == "" && p.SubscriptionID == "" {
			errs = errs.Also(expectedAnyOf("topic", "subscriptionID"))
		}
		if p.TopicProjectID != "" && p.Topic == "" {
			errs = errs.Also(missingBecause("topic", "required with topicProjectID"))
		}
		return errs
	}))
	errs = errs.Also(validateEntries(TypeAzureEventsHub, s.AzureEventsHub, func(a *AzureEventsHubEventSource) *apis.FieldError {
		return validateFilter(a.Filter).Also(
			requireString(a.FQDN, "fqdn"),
			requireString(a.HubName, "hubName"),
			validateSecretRef(a.SharedAccessKeyName, "sharedAccessKeyName"),
			validateSecretRef(a.SharedAccessKey, "sharedAccessKey"))
	}))
	errs = errs.Also(validateEntries(TypeAzureServiceBus, s.AzureServiceBus, func(a *AzureServiceBusEventSource) *apis.FieldError {
		errs := validateFilter(a.Filter).Also(
			validateSecretRef(a.ConnectionString, "connectionString"),
			validateTLS(a.TLS, "tls"))
		if a.ConnectionString == nil && a.FullyQualifiedNamespace == "" {
			errs = errs.Also(expectedAnyOf("connectionString", "fullyQualifiedNamespace"))
		}
		switch {
		case a.QueueName != "" && (a.TopicName != "" || a.SubscriptionName != ""):
			errs = errs.Also(apis.ErrGeneric("expected queueName or topicName with subscriptionName, got both",
				"queueName", "topicName"))
		case a.QueueName == "" && a.TopicName == "":
			errs = errs.Also(apis.ErrGeneric("expected queueName or topicName with subscriptionName, got neither",
				"queueName", "topicName"))
		case a.TopicName != "" && a.SubscriptionName == "":
			errs = errs.Also(apis.ErrMissingField("subscriptionName"))
		}
		return errs
	}))
	errs = errs.Also(validateEntries(TypeAzureQueueStorage, s.AzureQueueStorage, func(a *AzureQueueStorageEventSource) *apis.FieldError {
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
	}))
	errs = errs.Also(validateEntries(TypeMNS, s.MNS, func(m *MNSEventSource) *apis.FieldError {
		return validateFilter(m.Filter).Also(
			requireString(m.Queue, "queue"),
			requireString(m.Endpoint, "endpoint"),
			requireSecretRef(m.AccessKey, "accessKey"),
			requireSecretRef(m.SecretKey, "secretKey"))
	}))
	errs = errs.Also(validateEntries(TypeMinio, s.Minio, func(m *S3Artifact) *apis.FieldError {
		errs := requireString(m.Endpoint, "endpoint").Also(
			requireSecretRef(m.AccessKey, "accessKey"),
			requireSecretRef(m.SecretKey, "secretKey"),
			validateSecretRef(m.CACertificate, "caCertificate"))
		if m.Bucket == nil {
			errs = errs.Also(apis.ErrMissingField("bucket"))
		} else {
			errs = errs.Also(requireString(m.Bucket.Name, "bucket.name"))
		}
		return errs
	}))
	return errs
}
