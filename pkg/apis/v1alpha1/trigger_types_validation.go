package v1alpha1

import (
	"bytes"
	"net/http"
	"net/url"

	"knative.dev/pkg/apis"
)

func validateArtifact(a *ArtifactLocation) *apis.FieldError {
	if a == nil {
		return apis.ErrMissingField("source")
	}
	errs := exactlyOne(apis.CurrentField, map[string]bool{
		"s3": a.S3 != nil, "inline": a.Inline != nil, "file": a.File != nil, "url": a.URL != nil,
		"configmap": a.Configmap != nil, "git": a.Git != nil, "resource": a.Resource != nil,
	})
	if r := a.Resource; r != nil {
		if v := bytes.TrimSpace(r.Value); len(v) == 0 || v[0] != '{' {
			errs = errs.Also(apis.ErrGeneric("expected a Kubernetes object", "resource"))
		}
	}
	if a.Inline != nil && *a.Inline == "" {
		errs = errs.Also(apis.ErrMissingField("inline"))
	}
	if a.File != nil {
		errs = errs.Also(requireString(a.File.Path, "file.path"))
	}
	if a.URL != nil {
		errs = errs.Also(requireString(a.URL.Path, "url.path"))
	}
	errs = errs.Also(validateConfigMapRef(a.Configmap, "configmap"))
	if g := a.Git; g != nil {
		var gerrs *apis.FieldError
		gerrs = gerrs.Also(requireString(g.URL, "url"), requireString(g.CloneDirectory, "cloneDirectory"),
			requireString(g.FilePath, "filePath"), validateSecretRef(g.SSHKeySecret, "sshKeySecret"))
		if g.Creds != nil {
			gerrs = gerrs.Also(validateSecretRef(g.Creds.Username, "creds.username"),
				validateSecretRef(g.Creds.Password, "creds.password"))
		}
		errs = errs.Also(gerrs.ViaField("git"))
	}
	if a.S3 != nil {
		errs = errs.Also(a.S3.validate().ViaField("s3"))
	}
	return errs.ViaField("source")
}

var (
	k8sOperations   = []string{"", string(Create), string(Update), string(Patch), string(Delete)}
	patchStrategies = []string{"", "application/json-patch+json", "application/merge-patch+json",
		"application/strategic-merge-patch+json", "application/apply-patch+yaml"}
	workflowOperations = []string{"", string(Submit), string(SubmitFrom), string(Suspend), string(Resubmit),
		string(Retry), string(Resume), string(Terminate), string(Stop)}
	httpTriggerMethods = []string{"", http.MethodGet, http.MethodDelete, http.MethodPatch, http.MethodPost, http.MethodPut}
	invocationTypes    = []string{"RequestResponse", "Event", "DryRun"}
)

func (k *StandardK8STrigger) validate(deps map[string]int) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(validateArtifact(k.Source),
		oneOf(string(k.Operation), "operation", k8sOperations),
		oneOf(string(k.PatchStrategy), "patchStrategy", patchStrategies),
		validateParameters(k.Parameters, deps, true, "parameters"))
	return errs
}

func (a *ArgoWorkflowTrigger) validate(deps map[string]int) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(validateArtifact(a.Source),
		oneOf(string(a.Operation), "operation", workflowOperations),
		validateParameters(a.Parameters, deps, true, "parameters"))
	return errs
}

func validateURL(u, field string) *apis.FieldError {
	if u == "" {
		return apis.ErrMissingField(field)
	}
	if _, err := url.Parse(u); err != nil {
		return apis.ErrInvalidValue(u, field, err.Error())
	}
	return nil
}

func validateSecureHeaders(hs []*SecureHeader, field string) *apis.FieldError {
	var errs *apis.FieldError
	for i, h := range hs {
		var herrs *apis.FieldError
		if h == nil {
			errs = errs.Also(apis.ErrMissingField(apis.CurrentField).ViaFieldIndex(field, i))
			continue
		}
		herrs = herrs.Also(requireString(h.Name, "name"))
		if h.ValueFrom == nil {
			herrs = herrs.Also(apis.ErrMissingField("valueFrom"))
		} else {
			v := h.ValueFrom
			verrs := exactlyOne(apis.CurrentField, map[string]bool{
				"secretKeyRef": v.SecretKeyRef != nil, "configMapKeyRef": v.ConfigMapKeyRef != nil})
			verrs = verrs.Also(validateSecretRef(v.SecretKeyRef, "secretKeyRef"),
				validateConfigMapRef(v.ConfigMapKeyRef, "configMapKeyRef"))
			herrs = herrs.Also(verrs.ViaField("valueFrom"))
		}
		errs = errs.Also(herrs.ViaFieldIndex(field, i))
	}
	return errs
}

func (h *HTTPTrigger) validate(deps map[string]int) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(validateURL(h.URL, "url"),
		oneOf(h.Method, "method", httpTriggerMethods),
		validateTLS(h.TLS, "tls"),
		validateBasicAuth(h.BasicAuth, "basicAuth"),
		validateSecureHeaders(h.SecureHeaders, "secureHeaders"),
		validateParameters(h.Payload, deps, false, "payload"),
		validateParameters(h.Parameters, deps, true, "parameters"),
		validateParameters(h.DynamicHeaders, deps, true, "dynamicHeaders"))
	if h.Timeout < 0 {
		errs = errs.Also(apis.ErrInvalidValue(h.Timeout, "timeout", "must not be negative"))
	}
	return errs
}

func (a *AWSLambdaTrigger) validate(deps map[string]int) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(requireString(a.FunctionName, "functionName"),
		requireString(a.Region, "region"),
		requireList(len(a.Payload), "payload"),
		validateSecretRef(a.AccessKey, "accessKey"),
		validateSecretRef(a.SecretKey, "secretKey"),
		validateParameters(a.Payload, deps, false, "payload"),
		validateParameters(a.Parameters, deps, true, "parameters"))
	if a.InvocationType != nil {
		errs = errs.Also(oneOf(*a.InvocationType, "invocationType", invocationTypes))
	}
	return errs
}

func (c *CustomTrigger) validate(deps map[string]int) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(requireString(c.ServerURL, "serverURL"),
		requireList(len(c.Spec), "spec"),
		validateSecretRef(c.CertSecret, "certSecret"),
		validateParameters(c.Payload, deps, false, "payload"),
		validateParameters(c.Parameters, deps, true, "parameters"))
	if c.Secure && c.CertSecret == nil {
		errs = errs.Also(missingBecause("certSecret", "required when secure is true"))
	}
	return errs
}

func (k *KafkaTrigger) validate(deps map[string]int) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(requireString(k.URL, "url"),
		requireString(k.Topic, "topic"),
		requireList(len(k.Payload), "payload"),
		validateTLS(k.TLS, "tls"),
		validateSASL(k.SASL, "sasl"),
		validateSecureHeaders(k.SecureHeaders, "secureHeaders"),
		validateParameters(k.Payload, deps, false, "payload"),
		validateParameters(k.Parameters, deps, true, "parameters"))
	if k.RequiredAcks < -1 {
		errs = errs.Also(apis.ErrInvalidValue(k.RequiredAcks, "requiredAcks", "must be -1, 0 or a positive count"))
	}
	if k.FlushFrequency < 0 {
		errs = errs.Also(apis.ErrInvalidValue(k.FlushFrequency, "flushFrequency", "must not be negative"))
	}
	if s := k.SchemaRegistry; s != nil {
		var serrs *apis.FieldError
		serrs = serrs.Also(validateURL(s.URL, "url"))
		if s.Auth.Username != nil || s.Auth.Password != nil {
			serrs = serrs.Also(validateBasicAuth(&s.Auth, "auth"))
		}
		errs = errs.Also(serrs.ViaField("schemaRegistry"))
	}
	return errs
}

func (n *NATSTrigger) validate(deps map[string]int) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(requireString(n.URL, "url"),
		requireString(n.Subject, "subject"),
		requireList(len(n.Payload), "payload"),
		validateTLS(n.TLS, "tls"),
		validateNATSAuth(n.Auth, "auth"),
		validateParameters(n.Payload, deps, false, "payload"),
		validateParameters(n.Parameters, deps, true, "parameters"))
	return errs
}

func (s *SlackTrigger) validate(deps map[string]int) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(requireSecretRef(s.SlackToken, "slackToken"),
		validateParameters(s.Parameters, deps, true, "parameters"))
	return errs
}

func (o *OpenWhiskTrigger) validate(deps map[string]int) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(requireString(o.ActionName, "actionName"),
		requireString(o.Host, "host"),
		requireList(len(o.Payload), "payload"),
		validateSecretRef(o.AuthToken, "authToken"),
		validateParameters(o.Payload, deps, false, "payload"),
		validateParameters(o.Parameters, deps, true, "parameters"))
	return errs
}

func (a *AzureEventHubsTrigger) validate(deps map[string]int) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(requireString(a.FQDN, "fqdn"),
		requireString(a.HubName, "hubName"),
		requireSecretRef(a.SharedAccessKeyName, "sharedAccessKeyName"),
		requireSecretRef(a.SharedAccessKey, "sharedAccessKey"),
		requireList(len(a.Payload), "payload"),
		validateParameters(a.Payload, deps, false, "payload"),
		validateParameters(a.Parameters, deps, true, "parameters"))
	return errs
}

func (a *AzureServiceBusTrigger) validate(deps map[string]int) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(requireSecretRef(a.ConnectionString, "connectionString"),
		requireList(len(a.Payload), "payload"),
		validateTLS(a.TLS, "tls"),
		validateParameters(a.Payload, deps, false, "payload"),
		validateParameters(a.Parameters, deps, true, "parameters"))
	return errs.Also(validateQueueOrTopic(a.QueueName, a.TopicName, a.SubscriptionName))
}

func (p *PulsarTrigger) validate(deps map[string]int) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(requireString(p.URL, "url"),
		requireString(p.Topic, "topic"),
		requireList(len(p.Payload), "payload"),
		validatePulsarAuth(p.TLS, p.TLSTrustCertsSecret, p.AuthTokenSecret, p.AuthAthenzSecret, p.AuthAthenzParams),
		validateBackoff(p.ConnectionBackoff, "connectionBackoff"),
		validateParameters(p.Payload, deps, false, "payload"),
		validateParameters(p.Parameters, deps, true, "parameters"))
	return errs
}

func (e *EmailTrigger) validate(deps map[string]int) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(requireString(e.Host, "host"),
		validateSecretRef(e.SMTPPassword, "smtpPassword"),
		validateParameters(e.Parameters, deps, true, "parameters"))
	if e.Port < 0 || e.Port > 65535 {
		errs = errs.Also(apis.ErrOutOfBoundsValue(e.Port, 0, 65535, "port"))
	}
	return errs
}
