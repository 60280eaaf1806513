package conn

import (
	"context"
	"fmt"

	"github.com/nats-io/nkeys"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
)

// NATSAuth is Argo's NATS `auth` block (nats source and trigger) with its
// secret read: exactly one way of authenticating is set. A client maps it as
// Basic → user and password, Token → token, JWT (with NKey) → user JWT
// signed with the nkey, NKey alone → nkey challenge.
type NATSAuth struct {
	// Basic is `auth.basic`: a user name and password.
	Basic *BasicAuth
	// Token is `auth.token`.
	Token string
	// JWT is the user JWT of `auth.credential` (a creds file); NKey then
	// holds the file's user seed.
	JWT string
	// NKey is the key pair of `auth.nkey` (a seed file) or of the seed in
	// `auth.credential`; it signs the server's nonce.
	NKey *NKey
}

// String names the way of authenticating and hides every secret, so that a
// logged NATSAuth does not leak one.
func (a NATSAuth) String() string {
	switch {
	case a.Basic != nil:
		return "nats " + a.Basic.String()
	case a.Token != "":
		return "nats token auth"
	case a.JWT != "":
		return "nats credentials of " + a.NKey.Public
	case a.NKey != nil:
		return "nats nkey " + a.NKey.Public
	}
	return "no nats auth"
}

// GoString hides the secrets as String does.
func (a NATSAuth) GoString() string { return a.String() }

// NKey is a NATS user key pair read from a seed.
type NKey struct {
	// Public is the public key the server knows the user by (U…).
	Public string
	pair   nkeys.KeyPair
}

// Sign signs the nonce the server sent when the client connects.
func (k *NKey) Sign(nonce []byte) ([]byte, error) { return k.pair.Sign(nonce) }

// ResolveNATSAuth reads a NATS `auth` block. As Argo does, the first member
// set of basic, token, nkey and credential is used (validation refuses more
// than one). nkey holds a seed file's contents (Argo's NkeyOptionFromSeed),
// credential a creds file's (a user JWT and its seed, as `nsc` writes it).
// A nil block is no auth: nil, nil. Problems are at `auth.<member>`, so a
// caller moves them with ViaField or ViaFieldKey to its spec's place.
func ResolveNATSAuth(ctx context.Context, a *v1alpha1.NATSAuth, secrets secret.Resolver) (*NATSAuth, *apis.FieldError) {
	if a == nil {
		return nil, nil
	}
	out, err := resolveNATSAuth(ctx, a, secrets)
	return out, err.ViaField("auth")
}

func resolveNATSAuth(ctx context.Context, a *v1alpha1.NATSAuth, secrets secret.Resolver) (*NATSAuth, *apis.FieldError) {
	switch {
	case a.Basic != nil:
		b, err := ResolveBasicAuth(ctx, a.Basic, secrets)
		if err != nil {
			return nil, err.ViaField("basic")
		}
		return &NATSAuth{Basic: b}, nil
	case a.Token != nil:
		tok, err := SecretValue(ctx, secrets, a.Token, "token")
		if err != nil {
			return nil, err
		}
		return &NATSAuth{Token: tok}, nil
	case a.NKey != nil:
		seed, err := SecretValue(ctx, secrets, a.NKey, "nkey")
		if err != nil {
			return nil, err
		}
		pair, perr := nkeys.ParseDecoratedNKey([]byte(seed))
		if perr != nil {
			return nil, apis.ErrGeneric("no nkey seed found: "+perr.Error(), "nkey")
		}
		k, ferr := userKey(pair, "nkey")
		if ferr != nil {
			return nil, ferr
		}
		return &NATSAuth{NKey: k}, nil
	case a.Credential != nil:
		creds, err := SecretValue(ctx, secrets, a.Credential, "credential")
		if err != nil {
			return nil, err
		}
		jwt, perr := nkeys.ParseDecoratedJWT([]byte(creds))
		if perr != nil || jwt == creds {
			return nil, apis.ErrGeneric("no user JWT found in the credentials file", "credential")
		}
		pair, perr := nkeys.ParseDecoratedUserNKey([]byte(creds))
		if perr != nil {
			return nil, apis.ErrGeneric("no user seed found in the credentials file: "+perr.Error(), "credential")
		}
		k, ferr := userKey(pair, "credential")
		if ferr != nil {
			return nil, ferr
		}
		return &NATSAuth{JWT: jwt, NKey: k}, nil
	}
	return nil, nil
}

// userKey checks pair holds a private key and reads its public key.
func userKey(pair nkeys.KeyPair, path string) (*NKey, *apis.FieldError) {
	if _, err := pair.PrivateKey(); err != nil {
		return nil, apis.ErrGeneric("the key is not a seed: "+err.Error(), path)
	}
	pub, err := pair.PublicKey()
	if err != nil {
		return nil, apis.ErrGeneric(fmt.Sprintf("reading the public key: %v", err), path)
	}
	return &NKey{Public: pub, pair: pair}, nil
}
