// Package kafkaconn turns the connection fields Argo's kafka EventSource and
// kafka trigger share (`url`, `tls`, `sasl`, `version`) into franz-go client
// options, so that the kafka source and the kafka trigger connect alike.
package kafkaconn

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn"
	"github.com/flintevents/flint/pkg/secret"
)

// Spec is the connection part of a kafka EventSource entry or trigger.
type Spec struct {
	// URL lists the brokers, comma separated (`url`).
	URL string
	// TLS is the `tls` block; nil is a plain connection.
	TLS *v1alpha1.TLSConfig
	// SASL is the `sasl` block; nil is no authentication.
	SASL *v1alpha1.SASLConfig
	// Version is the highest Kafka version the client speaks (`version`);
	// empty lets the client negotiate with the broker.
	Version string
	// ClientID names the client to the brokers; empty keeps franz-go's.
	ClientID string
}

// Options returns the client options of s: the seed brokers, the TLS dialer,
// the SASL mechanism and the highest protocol versions. Secrets are read
// here, within ctx. Problems are *apis.FieldError at the field (`url`,
// `version`, `tls.caCertSecret`, `sasl.userSecret`), relative to the spec.
func Options(ctx context.Context, s Spec, secrets secret.Resolver) ([]kgo.Opt, *apis.FieldError) {
	var errs *apis.FieldError
	brokers := Brokers(s.URL)
	if len(brokers) == 0 {
		errs = errs.Also(apis.ErrMissingField("url"))
	}
	opts := []kgo.Opt{kgo.SeedBrokers(brokers...)}
	if s.ClientID != "" {
		opts = append(opts, kgo.ClientID(s.ClientID))
	}
	if s.Version != "" {
		v := kversion.FromString(s.Version)
		if v == nil {
			errs = errs.Also(apis.ErrInvalidValue(s.Version, "version", "not a Kafka version such as 2.8.0"))
		} else {
			opts = append(opts, kgo.MaxVersions(v))
		}
	}
	tlsCfg, ferr := conn.TLS(ctx, s.TLS, secrets)
	errs = errs.Also(ferr)
	if tlsCfg != nil {
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	auth, ferr := conn.ResolveSASL(ctx, s.SASL, secrets)
	errs = errs.Also(ferr)
	if auth != nil {
		opts = append(opts, kgo.SASL(Mechanism(*auth)))
	}
	if errs != nil {
		return nil, errs
	}
	return opts, nil
}

// Brokers splits a comma-separated `url` into broker addresses, dropping
// blanks.
func Brokers(url string) []string {
	var out []string
	for _, b := range strings.Split(url, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// Mechanism is franz-go's mechanism of a resolved `sasl` block: PLAIN,
// SCRAM-SHA-256 or SCRAM-SHA-512 (conn.ResolveSASL admits no other).
func Mechanism(s conn.SASL) sasl.Mechanism {
	switch s.Mechanism {
	case conn.SASLScramSHA256:
		return scram.Auth{User: s.User, Pass: s.Password}.AsSha256Mechanism()
	case conn.SASLScramSHA512:
		return scram.Auth{User: s.User, Pass: s.Password}.AsSha512Mechanism()
	default:
		return plain.Auth{User: s.User, Pass: s.Password}.AsMechanism()
	}
}
