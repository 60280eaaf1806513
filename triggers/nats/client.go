package nats

import (
	"crypto/tls"

	natsgo "github.com/nats-io/nats.go"

	"github.com/flintevents/flint/pkg/conn"
)

// clientOptions maps the trigger's TLS and auth onto the client's options.
func clientOptions(t *tls.Config, a *conn.NATSAuth) []natsgo.Option {
	var opts []natsgo.Option
	if t != nil {
		opts = append(opts, natsgo.Secure(t))
	}
	if a == nil {
		return opts
	}
	switch {
	case a.Basic != nil:
		opts = append(opts, natsgo.UserInfo(a.Basic.Username, a.Basic.Password))
	case a.Token != "":
		opts = append(opts, natsgo.Token(a.Token))
	case a.JWT != "":
		jwt := a.JWT
		opts = append(opts, natsgo.UserJWT(func() (string, error) { return jwt, nil }, a.NKey.Sign))
	case a.NKey != nil:
		opts = append(opts, natsgo.Nkey(a.NKey.Public, a.NKey.Sign))
	}
	return opts
}
