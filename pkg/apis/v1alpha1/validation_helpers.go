package v1alpha1

import (
	"fmt"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // timezone names validate without a system zoneinfo database

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"knative.dev/pkg/apis"
)

// requireString reports field as missing when v is empty.
func requireString(v, field string) *apis.FieldError {
	if strings.TrimSpace(v) == "" {
		return apis.ErrMissingField(field)
	}
	return nil
}

// missingBecause reports field as missing, with why it is required.
func missingBecause(field, why string) *apis.FieldError {
	err := apis.ErrMissingField(field)
	err.Details = why
	return err
}

// expectedAnyOf reports, at the current path, that none of the alternative fields is set.
func expectedAnyOf(fields ...string) *apis.FieldError {
	return apis.ErrGeneric("expected "+strings.Join(fields, " or "), apis.CurrentField)
}

// requireList reports field as missing when it has no element.
func requireList(n int, field string) *apis.FieldError {
	if n == 0 {
		return apis.ErrMissingField(field)
	}
	return nil
}

// validateSecretRef checks an optional secret key reference: when set it needs name and key.
func validateSecretRef(ref *corev1.SecretKeySelector, field string) *apis.FieldError {
	if ref == nil {
		return nil
	}
	var errs *apis.FieldError
	errs = errs.Also(requireString(ref.Name, "name"), requireString(ref.Key, "key"))
	return errs.ViaField(field)
}

// requireSecretRef checks a mandatory secret key reference.
func requireSecretRef(ref *corev1.SecretKeySelector, field string) *apis.FieldError {
	if ref == nil {
		return apis.ErrMissingField(field)
	}
	return validateSecretRef(ref, field)
}

// validateConfigMapRef checks an optional config map key reference.
func validateConfigMapRef(ref *corev1.ConfigMapKeySelector, field string) *apis.FieldError {
	if ref == nil {
		return nil
	}
	var errs *apis.FieldError
	errs = errs.Also(requireString(ref.Name, "name"), requireString(ref.Key, "key"))
	return errs.ViaField(field)
}

func validateBasicAuth(b *BasicAuth, field string) *apis.FieldError {
	if b == nil {
		return nil
	}
	var errs *apis.FieldError
	errs = errs.Also(requireSecretRef(b.Username, "username"), requireSecretRef(b.Password, "password"))
	return errs.ViaField(field)
}

func validateTLS(t *TLSConfig, field string) *apis.FieldError {
	if t == nil {
		return nil
	}
	var errs *apis.FieldError
	errs = errs.Also(
		validateSecretRef(t.CACertSecret, "caCertSecret"),
		validateSecretRef(t.ClientCertSecret, "clientCertSecret"),
		validateSecretRef(t.ClientKeySecret, "clientKeySecret"),
	)
	if (t.ClientCertSecret == nil) != (t.ClientKeySecret == nil) {
		errs = errs.Also(apis.ErrGeneric("clientCertSecret and clientKeySecret must be set together",
			"clientCertSecret", "clientKeySecret"))
	}
	return errs.ViaField(field)
}

var saslMechanisms = []string{"", "PLAIN", "OAUTHBEARER", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI"}

func validateSASL(s *SASLConfig, field string) *apis.FieldError {
	if s == nil {
		return nil
	}
	var errs *apis.FieldError
	errs = errs.Also(oneOf(s.Mechanism, "mechanism", saslMechanisms))
	errs = errs.Also(validateSecretRef(s.UserSecret, "userSecret"), validateSecretRef(s.PasswordSecret, "passwordSecret"))
	return errs.ViaField(field)
}

func validateNATSAuth(a *NATSAuth, field string) *apis.FieldError {
	if a == nil {
		return nil
	}
	var errs *apis.FieldError
	var set []string
	if a.Basic != nil {
		set = append(set, "basic")
		errs = errs.Also(validateBasicAuth(a.Basic, "basic"))
	}
	for _, r := range []struct {
		name string
		ref  *corev1.SecretKeySelector
	}{{"token", a.Token}, {"nkey", a.NKey}, {"credential", a.Credential}} {
		if r.ref != nil {
			set = append(set, r.name)
			errs = errs.Also(validateSecretRef(r.ref, r.name))
		}
	}
	if len(set) > 1 {
		errs = errs.Also(apis.ErrMultipleOneOf(set...))
	}
	return errs.ViaField(field)
}

// validateQueueOrTopic checks the Azure Service Bus entity of a source or
// trigger: a queue, or a topic with its subscription.
func validateQueueOrTopic(queue, topic, subscription string) *apis.FieldError {
	switch {
	case queue != "" && (topic != "" || subscription != ""):
		return apis.ErrGeneric("expected queueName or topicName with subscriptionName, got both",
			"queueName", "topicName")
	case queue == "" && topic == "":
		return apis.ErrGeneric("expected queueName or topicName with subscriptionName, got neither",
			"queueName", "topicName")
	case topic != "" && subscription == "":
		return apis.ErrMissingField("subscriptionName")
	}
	return nil
}

// validatePulsarAuth checks the TLS and authentication fields a Pulsar
// source and a Pulsar trigger share; Athenz parameters need the secret.
func validatePulsarAuth(tls *TLSConfig, trustCerts, token, athenz *corev1.SecretKeySelector, athenzParams map[string]string) *apis.FieldError {
	errs := validateTLS(tls, "tls").Also(
		validateSecretRef(trustCerts, "tlsTrustCertsSecret"),
		validateSecretRef(token, "authTokenSecret"),
		validateSecretRef(athenz, "authAthenzSecret"))
	if len(athenzParams) > 0 && athenz == nil {
		errs = errs.Also(missingBecause("authAthenzSecret", "required with authAthenzParams"))
	}
	return errs
}

// oneOf reports an invalid value when v is not among allowed ("" included only if listed).
func oneOf(v, field string, allowed []string) *apis.FieldError {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	var shown []string
	for _, a := range allowed {
		if a != "" {
			shown = append(shown, a)
		}
	}
	return apis.ErrInvalidValue(v, field, "must be one of "+strings.Join(shown, ", "))
}

func validateLogicalOperator(op LogicalOperator, field string) *apis.FieldError {
	return oneOf(string(op), field, []string{"", string(AndLogicalOperator), string(OrLogicalOperator)})
}

// validateCron checks a standard 5-field cron expression (descriptors such as @daily allowed).
func validateCron(expr, field string) *apis.FieldError {
	if err := checkCron(expr); err != nil {
		return apis.ErrInvalidValue(expr, field, err.Error())
	}
	return nil
}

func validateTimezone(tz, field string) *apis.FieldError {
	if tz == "" {
		return nil
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return apis.ErrInvalidValue(tz, field, "unknown time zone")
	}
	return nil
}

// validateDuration checks an optional Go duration string ("10s").
func validateDuration(d, field string) *apis.FieldError {
	if d == "" {
		return nil
	}
	if _, err := time.ParseDuration(d); err != nil {
		return apis.ErrInvalidValue(d, field, "must be a duration such as 30s, 5m or 1h")
	}
	return nil
}

// validateRegexp checks that a regular expression (RE2 syntax) parses.
func validateRegexp(re, field string) *apis.FieldError {
	if _, err := syntax.Parse(re, syntax.Perl); err != nil {
		return apis.ErrInvalidValue(re, field, err.Error())
	}
	return nil
}

func validateBackoff(b *Backoff, field string) *apis.FieldError {
	if b == nil {
		return nil
	}
	var errs *apis.FieldError
	if b.Duration != nil {
		if d, err := b.Duration.Duration(); err != nil {
			errs = errs.Also(apis.ErrInvalidValue(b.Duration.StrVal, "duration", "must be nanoseconds or a duration such as 1s"))
		} else if d < 0 {
			errs = errs.Also(apis.ErrInvalidValue(d.String(), "duration", "must not be negative"))
		}
	}
	for _, a := range []struct {
		name string
		v    *Amount
	}{{"factor", b.Factor}, {"jitter", b.Jitter}} {
		if a.v == nil {
			continue
		}
		if f, err := a.v.Float64(); err != nil {
			errs = errs.Also(apis.ErrInvalidValue(string(a.v.Value), a.name, "must be a number"))
		} else if f < 0 {
			errs = errs.Also(apis.ErrInvalidValue(string(a.v.Value), a.name, "must not be negative"))
		}
	}
	if b.Steps < 0 {
		errs = errs.Also(apis.ErrInvalidValue(b.Steps, "steps", "must not be negative"))
	}
	return errs.ViaField(field)
}

// validatePort checks a TCP port written as a string, as Argo's webhook `port`.
func validatePort(p, field string) *apis.FieldError {
	if p == "" {
		return apis.ErrMissingField(field)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return apis.ErrInvalidValue(p, field, "must be a port number")
	}
	if n < 1 || n > 65535 {
		return apis.ErrOutOfBoundsValue(n, 1, 65535, field)
	}
	return nil
}

// validateObjectName checks metadata.name (DNS-1123 subdomain) and metadata.namespace.
func validateObjectName(name, namespace string) *apis.FieldError {
	var errs *apis.FieldError
	if name == "" {
		errs = errs.Also(apis.ErrMissingField("name"))
	} else if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		errs = errs.Also(apis.ErrInvalidValue(name, "name", strings.Join(msgs, "; ")))
	}
	if namespace != "" {
		if msgs := validation.IsDNS1123Label(namespace); len(msgs) > 0 {
			errs = errs.Also(apis.ErrInvalidValue(namespace, "namespace", strings.Join(msgs, "; ")))
		}
	}
	return errs.ViaField("metadata")
}

// exactlyOne reports when not exactly one of the named members is set.
func exactlyOne(field string, members map[string]bool) *apis.FieldError {
	var all, set []string
	for k, ok := range members {
		all = append(all, k)
		if ok {
			set = append(set, k)
		}
	}
	if len(set) == 1 {
		return nil
	}
	sort.Strings(all)
	sort.Strings(set)
	got := "none"
	if len(set) > 1 {
		got = strings.Join(set, ", ")
	}
	return apis.ErrGeneric(fmt.Sprintf("expected exactly one of [%s], got %s", strings.Join(all, ", "), got), field)
}
