// Package redisconn turns the connection fields that Argo's redis and
// redisStream event sources share (hostAddress, password, username, db, tls)
// into go-redis client options.
package redisconn

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	corev1 "k8s.io/api/core/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn"
	"github.com/flintevents/flint/pkg/secret"
)

// Timeouts of every client built from a Spec.
const (
	// DialTimeout bounds connecting to the server.
	DialTimeout = 5 * time.Second
	// ReadTimeout bounds one reply; blocking reads add their own block time.
	ReadTimeout = 5 * time.Second
	// WriteTimeout bounds one command's write.
	WriteTimeout = 5 * time.Second
)

// Spec is the connection part of a redis or redisStream entry.
type Spec struct {
	// HostAddress is host:port.
	HostAddress string
	// Password is the secret holding the password (AUTH); nil for none.
	Password *corev1.SecretKeySelector
	// Username is the ACL user; "" is the default user.
	Username string
	// DB is the database number.
	DB int32
	// TLS turns TLS on when set.
	TLS *v1alpha1.TLSConfig
}

// Check tells, without I/O, whether the secrets the spec names can be read at
// all: a spec naming one needs a resolver. Paths are relative to the entry.
func (s Spec) Check(secrets secret.Resolver) *apis.FieldError {
	if secrets != nil {
		return nil
	}
	var errs *apis.FieldError
	if s.Password != nil {
		errs = errs.Also(apis.ErrGeneric("a secret is named but there is no secret resolver", "password"))
	}
	if t := s.TLS; t != nil && (t.CACertSecret != nil || t.ClientCertSecret != nil || t.ClientKeySecret != nil) {
		errs = errs.Also(apis.ErrGeneric("a secret is named but there is no secret resolver", "tls"))
	}
	return errs
}

// Options reads the spec's secrets and returns the client options: the
// timeouts above, RESP2, no client identity or maintenance notifications
// (servers before 7.2 do not know them). Problems are at the field they
// concern, relative to the entry (`password`, `tls.caCertSecret`).
func (s Spec) Options(ctx context.Context, secrets secret.Resolver) (*redis.Options, *apis.FieldError) {
	o := &redis.Options{
		Addr:            s.HostAddress,
		Username:        s.Username,
		DB:              int(s.DB),
		Protocol:        2,
		DisableIdentity: true,
		DialTimeout:     DialTimeout,
		ReadTimeout:     ReadTimeout,
		WriteTimeout:    WriteTimeout,
		MaintNotificationsConfig: &maintnotifications.Config{
			Mode: maintnotifications.ModeDisabled,
		},
	}
	if s.Password != nil {
		p, err := conn.SecretValue(ctx, secrets, s.Password, "password")
		if err != nil {
			return nil, err
		}
		o.Password = p
	}
	t, err := conn.TLS(ctx, s.TLS, secrets)
	if err != nil {
		return nil, err
	}
	o.TLSConfig = t
	return o, nil
}
