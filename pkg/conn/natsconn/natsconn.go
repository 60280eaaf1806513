// Package natsconn maps the connection blocks of Argo's NATS source and
// trigger onto nats.go client options. It is apart from pkg/conn so that
// only the NATS plugins link the client.
package natsconn

import (
	"crypto/tls"

	"github.com/nats-io/nats.go"

	"github.com/flintevents/flint/pkg/conn"
)

// Options are the client options of a `tls` block (conn.TLS) and an `auth`
// block (conn.ResolveNATSAuth): basic auth, a token, a user JWT signed with
// its nkey, or an nkey alone; either may be nil.
func Options(t *tls.Config, a *conn.NATSAuth) []nats.Option {
	var opts []nats.Option
	if t != nil {
		opts = append(opts, nats.Secure(t))
	}
	if a == nil {
		return opts
	}
	switch {
	case a.Basic != nil:
		opts = append(opts, nats.UserInfo(a.Basic.Username, a.Basic.Password))
	case a.Token != "":
		opts = append(opts, nats.Token(a.Token))
	case a.JWT != "":
		jwt := a.JWT
		opts = append(opts, nats.UserJWT(func() (string, error) { return jwt, nil }, a.NKey.Sign))
	case a.NKey != nil:
		opts = append(opts, nats.Nkey(a.NKey.Public, a.NKey.Sign))
	}
	return opts
}
