package conn

import (
	"context"
	"fmt"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
)

// BasicAuth is a basic-auth block with its secrets read: Argo's `auth` of
// amqp and mqtt, `auth.basic` of nats, `basicAuth` of http and webhooks.
type BasicAuth struct {
	Username, Password string
}

// String names the user and hides the password, so that a logged BasicAuth
// does not leak it.
func (b BasicAuth) String() string { return fmt.Sprintf("basic auth user %q", b.Username) }

// GoString hides the password as String does.
func (b BasicAuth) GoString() string { return b.String() }

// ResolveBasicAuth reads a basic-auth block. A reference left out gives an
// empty value, as Argo's http trigger sends it; the spec's validation is
// where a type requires both. A nil block is no auth: nil, nil. The block's name differs
// between types, so problems are relative to it (`username`): the caller
// adds its name with ViaField("auth").
func ResolveBasicAuth(ctx context.Context, b *v1alpha1.BasicAuth, secrets secret.Resolver) (*BasicAuth, *apis.FieldError) {
	if b == nil {
		return nil, nil
	}
	var (
		out  BasicAuth
		errs *apis.FieldError
		err  *apis.FieldError
	)
	if b.Username != nil {
		if out.Username, err = SecretValue(ctx, secrets, b.Username, "username"); err != nil {
			errs = errs.Also(err)
		}
	}
	if b.Password != nil {
		if out.Password, err = SecretValue(ctx, secrets, b.Password, "password"); err != nil {
			errs = errs.Also(err)
		}
	}
	if errs != nil {
		return nil, errs
	}
	return &out, nil
}
