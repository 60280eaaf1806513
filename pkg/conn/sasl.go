package conn

import (
	"context"
	"fmt"
	"slices"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
)

// The SASL mechanisms a client gets from ResolveSASL.
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// saslMechanisms are the mechanisms flint connects with, in the order an
// error lists them. Argo's OAUTHBEARER and GSSAPI need token and Kerberos
// settings its `sasl` block does not carry.
var saslMechanisms = []string{SASLPlain, SASLScramSHA256, SASLScramSHA512}

// SASL is Argo's `sasl` block with its secrets read: a Kafka or NATS client
// maps Mechanism to its own mechanism type.
type SASL struct {
	// Mechanism is SASLPlain, SASLScramSHA256 or SASLScramSHA512.
	Mechanism string
	// User and Password are the values of `userSecret` and `passwordSecret`.
	User, Password string
}

// String names the mechanism and user and hides the password, so that a
// logged SASL does not leak it.
func (s SASL) String() string { return fmt.Sprintf("SASL %s user %q", s.Mechanism, s.User) }

// GoString hides the password as String does.
func (s SASL) GoString() string { return s.String() }

// ResolveSASL reads Argo's `sasl` block: `mechanism` (PLAIN when empty),
// `userSecret` and `passwordSecret`, both needed. A nil block is no SASL:
// nil, nil. Problems are at `sasl.<field>`.
func ResolveSASL(ctx context.Context, cfg *v1alpha1.SASLConfig, secrets secret.Resolver) (*SASL, *apis.FieldError) {
	if cfg == nil {
		return nil, nil
	}
	s, err := resolveSASL(ctx, cfg, secrets)
	return s, err.ViaField("sasl")
}

func resolveSASL(ctx context.Context, cfg *v1alpha1.SASLConfig, secrets secret.Resolver) (*SASL, *apis.FieldError) {
	s := &SASL{Mechanism: cfg.Mechanism}
	if s.Mechanism == "" {
		s.Mechanism = SASLPlain
	}
	var errs *apis.FieldError
	if !slices.Contains(saslMechanisms, s.Mechanism) {
		errs = errs.Also(apis.ErrInvalidValue(cfg.Mechanism, "mechanism", "must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512"))
	}
	var err *apis.FieldError
	if cfg.UserSecret == nil {
		errs = errs.Also(apis.ErrMissingField("userSecret"))
	} else if s.User, err = SecretValue(ctx, secrets, cfg.UserSecret, "userSecret"); err != nil {
		errs = errs.Also(err)
	}
	if cfg.PasswordSecret == nil {
		errs = errs.Also(apis.ErrMissingField("passwordSecret"))
	} else if s.Password, err = SecretValue(ctx, secrets, cfg.PasswordSecret, "passwordSecret"); err != nil {
		errs = errs.Also(err)
	}
	if errs != nil {
		return nil, errs
	}
	return s, nil
}
