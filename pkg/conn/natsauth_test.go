package conn_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn"
)

func TestResolveNATSAuth(t *testing.T) {
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	pub, _ := user.PublicKey()
	const jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.sig"
	creds := "-----BEGIN NATS USER JWT-----\n" + jwt + "\n------END NATS USER JWT------\n\n" +
		"-----BEGIN USER NKEY SEED-----\n" + string(seed) + "\n------END USER NKEY SEED------\n"
	secrets := resolver(map[string]string{
		"n/user": "flint", "n/password": "pw-9f3", "n/token": "tok-7c1", "n/seed": string(seed), "n/creds": creds,
		"n/bad": "not a seed", "n/account": "SAAMLKGOVLCFIUSOXHFXTWFHQZLSEAQ5TLXMPKFNXPM7RXJ6DOYRLGFT4Q", "n/nojwt": "just text",
	})
	cases := []struct {
		name     string
		auth     *v1alpha1.NATSAuth
		check    func(t *testing.T, a *conn.NATSAuth)
		wantPath string
	}{
		{name: "none", auth: nil, check: func(t *testing.T, a *conn.NATSAuth) {
			if a != nil {
				t.Errorf("auth %v, want nil", a)
			}
		}},
		{name: "basic", auth: &v1alpha1.NATSAuth{Basic: &v1alpha1.BasicAuth{Username: ref("n", "user"), Password: ref("n", "password")}},
			check: func(t *testing.T, a *conn.NATSAuth) {
				if a.Basic == nil || a.Basic.Username != "flint" || a.Basic.Password != "pw-9f3" {
					t.Errorf("basic %#v", a.Basic)
				}
			}},
		{name: "token", auth: &v1alpha1.NATSAuth{Token: ref("n", "token")}, check: func(t *testing.T, a *conn.NATSAuth) {
			if a.Token != "tok-7c1" {
				t.Errorf("token %q", a.Token)
			}
		}},
		{name: "nkey", auth: &v1alpha1.NATSAuth{NKey: ref("n", "seed")}, check: func(t *testing.T, a *conn.NATSAuth) {
			if a.NKey == nil || a.NKey.Public != pub || a.JWT != "" {
				t.Fatalf("nkey %v", a)
			}
			sig, err := a.NKey.Sign([]byte("nonce"))
			if err != nil || user.Verify([]byte("nonce"), sig) != nil {
				t.Errorf("signature does not verify: %v", err)
			}
		}},
		{name: "credential", auth: &v1alpha1.NATSAuth{Credential: ref("n", "creds")}, check: func(t *testing.T, a *conn.NATSAuth) {
			if a.JWT != jwt || a.NKey == nil || a.NKey.Public != pub {
				t.Errorf("credential %v", a)
			}
		}},
		{name: "missing secret", auth: &v1alpha1.NATSAuth{Token: ref("absent", "token")}, wantPath: "auth.token"},
		{name: "missing password", auth: &v1alpha1.NATSAuth{Basic: &v1alpha1.BasicAuth{Username: ref("n", "user"), Password: ref("absent", "p")}}, wantPath: "auth.basic.password"},
		{name: "not a seed", auth: &v1alpha1.NATSAuth{NKey: ref("n", "bad")}, wantPath: "auth.nkey"},
		{name: "creds without a JWT", auth: &v1alpha1.NATSAuth{Credential: ref("n", "nojwt")}, wantPath: "auth.credential"},
		{name: "creds with an account seed", auth: &v1alpha1.NATSAuth{Credential: ref("n", "account")}, wantPath: "auth.credential"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, fe := conn.ResolveNATSAuth(context.Background(), tc.auth, secrets)
			if tc.wantPath != "" {
				if fe == nil || !hasPath(fe, tc.wantPath) {
					t.Fatalf("error %v, want one at %s", fe, tc.wantPath)
				}
				return
			}
			if fe != nil {
				t.Fatalf("ResolveNATSAuth: %v", fe)
			}
			tc.check(t, a)
			if a != nil && (strings.Contains(a.String(), "pw-9f3") || strings.Contains(a.String(), "tok-7c1") || strings.Contains(a.String(), string(seed))) {
				t.Errorf("String() leaks a secret: %s", a)
			}
		})
	}
}

func hasPath(fe *apis.FieldError, path string) bool {
	for _, e := range fe.WrappedErrors() {
		for _, p := range e.Paths {
			if p == path {
				return true
			}
		}
	}
	return false
}
