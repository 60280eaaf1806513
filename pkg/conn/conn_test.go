package conn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn"
	"github.com/flintevents/flint/pkg/secret"
)

func ref(name, key string) *corev1.SecretKeySelector {
	return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
}

// resolver is a secret.Local reading the given values (name/key → value).
func resolver(values map[string]string) secret.Resolver {
	env := map[string]string{}
	for k, v := range values {
		name, key, _ := strings.Cut(k, "/")
		env[secret.EnvName(name, key)] = v
	}
	return secret.Local{Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
}

// pki is a CA and a server and client certificate it signed, PEM encoded.
type pki struct {
	caPEM                    string
	serverCert               tls.Certificate
	clientCertPEM, clientKey string
	caPool                   *x509.CertPool
}

func newPKI(t *testing.T) pki {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage) (certPEM, keyPEM string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: fmt.Sprint("leaf ", serial)},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
			string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	}
	p := pki{caPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})), caPool: x509.NewCertPool()}
	p.caPool.AddCert(ca)
	srvCert, srvKey := issue(2, x509.ExtKeyUsageServerAuth)
	if p.serverCert, err = tls.X509KeyPair([]byte(srvCert), []byte(srvKey)); err != nil {
		t.Fatal(err)
	}
	p.clientCertPEM, p.clientKey = issue(3, x509.ExtKeyUsageClientAuth)
	return p
}

// TestTLSHandshake: the config TLS builds from the secrets completes a real
// handshake with a server that asks for a client certificate, and fails
// without the CA or without the client key pair.
func TestTLSHandshake(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprint(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.serverCert}, ClientCAs: p.caPool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	secrets := resolver(map[string]string{"tls/ca": p.caPEM, "tls/cert": p.clientCertPEM, "tls/key": p.clientKey})

	tests := []struct {
		name    string
		cfg     *v1alpha1.TLSConfig
		wantErr string // substring of the request's error; "" for success
	}{
		{"ca and client pair", &v1alpha1.TLSConfig{CACertSecret: ref("tls", "ca"), ClientCertSecret: ref("tls", "cert"), ClientKeySecret: ref("tls", "key")}, ""},
		{"insecureSkipVerify without the ca", &v1alpha1.TLSConfig{InsecureSkipVerify: true, ClientCertSecret: ref("tls", "cert"), ClientKeySecret: ref("tls", "key")}, ""},
		{"without the ca", &v1alpha1.TLSConfig{ClientCertSecret: ref("tls", "cert"), ClientKeySecret: ref("tls", "key")}, "certificate signed by unknown authority"},
		{"without the client pair", &v1alpha1.TLSConfig{CACertSecret: ref("tls", "ca")}, "certificate required"},
		{"enabled only", &v1alpha1.TLSConfig{Enabled: true}, "certificate signed by unknown authority"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, ferr := conn.TLS(context.Background(), tc.cfg, secrets)
			if ferr != nil {
				t.Fatal(ferr)
			}
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 5 * time.Second}
			defer client.CloseIdleConnections()
			resp, err := client.Get(srv.URL)
			if tc.wantErr != "" {
				if err == nil {
					_ = resp.Body.Close()
					t.Fatalf("GET succeeded, want an error containing %q", tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("GET = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
		})
	}
}

// TestTLSErrors: each problem names its field under `tls`, and no error
// quotes a secret's value.
func TestTLSErrors(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	secrets := resolver(map[string]string{"tls/ca": p.caPEM, "tls/cert": p.clientCertPEM, "tls/key": p.clientKey,
		"tls/junk": "not a certificate", "tls/empty": ""})
	tests := []struct {
		name string
		cfg  *v1alpha1.TLSConfig
		want string
	}{
		{"missing ca secret", &v1alpha1.TLSConfig{CACertSecret: ref("tls", "nope")}, "resolving secret: secret tls key nope (set FLINT_SECRET_TLS_NOPE): secret not found: tls.caCertSecret"},
		{"ca not PEM", &v1alpha1.TLSConfig{CACertSecret: ref("tls", "junk")}, "no PEM certificate found: tls.caCertSecret"},
		{"empty ca", &v1alpha1.TLSConfig{CACertSecret: ref("tls", "empty")}, "the secret is empty (secret tls key empty): tls.caCertSecret"},
		{"cert without key", &v1alpha1.TLSConfig{ClientCertSecret: ref("tls", "cert")}, "missing field(s): tls.clientKeySecret"},
		{"key without cert", &v1alpha1.TLSConfig{ClientKeySecret: ref("tls", "key")}, "missing field(s): tls.clientCertSecret"},
		{"missing key secret", &v1alpha1.TLSConfig{ClientCertSecret: ref("tls", "cert"), ClientKeySecret: ref("tls", "gone")}, "tls.clientKeySecret"},
		{"key pair mismatch", &v1alpha1.TLSConfig{ClientCertSecret: ref("tls", "cert"), ClientKeySecret: ref("tls", "junk")}, "loading key pair"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := conn.TLS(context.Background(), tc.cfg, secrets)
			if err == nil || cfg != nil {
				t.Fatalf("TLS = %v, %v; want an error", cfg, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %q, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "BEGIN") || strings.Contains(err.Error(), "not a certificate") {
				t.Fatalf("err quotes a secret: %q", err)
			}
			if got := err.ViaKey("example").ViaField("spec.kafka").Error(); !strings.Contains(got, "spec.kafka[example].tls.") {
				t.Fatalf("a caller's prefix gives %q", got)
			}
		})
	}
	if cfg, err := conn.TLS(context.Background(), nil, secrets); cfg != nil || err != nil {
		t.Fatalf("TLS(nil) = %v, %v; want no TLS", cfg, err)
	}
	if _, err := conn.TLS(context.Background(), &v1alpha1.TLSConfig{CACertSecret: ref("tls", "ca")}, nil); err == nil ||
		!strings.Contains(err.Error(), "no secret resolver configured: tls.caCertSecret") {
		t.Fatalf("without a resolver: %v", err)
	}
}

// TestResolveSASL runs the cases of testdata/sasl.yaml.
func TestResolveSASL(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/sasl.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name     string               `json:"name"`
		SASL     *v1alpha1.SASLConfig `json:"sasl"`
		Want     *struct{ Mechanism, User, Password string }
		WantErr  string `json:"wantErr"`
		WantPath string `json:"wantPath"`
	}
	if err := yaml.UnmarshalStrict(raw, &cases); err != nil {
		t.Fatal(err)
	}
	secrets := resolver(map[string]string{"kafka/user": "alice", "kafka/password": "s3cr3t", "kafka/empty": ""})
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			got, ferr := conn.ResolveSASL(context.Background(), tc.SASL, secrets)
			if tc.WantErr != "" {
				if ferr == nil || !strings.Contains(ferr.Error(), tc.WantErr) {
					t.Fatalf("err = %v, want it to contain %q", ferr, tc.WantErr)
				}
				if tc.WantPath != "" && !strings.HasSuffix(ferr.Error(), ": "+tc.WantPath) {
					t.Fatalf("err = %v, want it at %s", ferr, tc.WantPath)
				}
				if strings.Contains(ferr.Error(), "s3cr3t") {
					t.Fatalf("err quotes the password: %v", ferr)
				}
				return
			}
			if ferr != nil {
				t.Fatal(ferr)
			}
			if got.Mechanism != tc.Want.Mechanism || got.User != tc.Want.User || got.Password != tc.Want.Password {
				t.Fatalf("got %+v, want %+v", *got, *tc.Want)
			}
			for _, s := range []string{fmt.Sprint(got), fmt.Sprintf("%+v", *got), fmt.Sprintf("%#v", got)} {
				if strings.Contains(s, "s3cr3t") {
					t.Fatalf("printing SASL shows the password: %s", s)
				}
			}
		})
	}
	if s, err := conn.ResolveSASL(context.Background(), nil, secrets); s != nil || err != nil {
		t.Fatalf("ResolveSASL(nil) = %v, %v; want no SASL", s, err)
	}
}

// TestResolveBasicAuth: both references read; one left out reads empty; a
// missing secret is named relative to the block.
func TestResolveBasicAuth(t *testing.T) {
	t.Parallel()
	secrets := resolver(map[string]string{"mq/user": "guest", "mq/pass": "hunter2"})
	tests := []struct {
		name     string
		auth     *v1alpha1.BasicAuth
		wantUser string
		wantPass string
		wantErr  string
	}{
		{"both", &v1alpha1.BasicAuth{Username: ref("mq", "user"), Password: ref("mq", "pass")}, "guest", "hunter2", ""},
		{"user only", &v1alpha1.BasicAuth{Username: ref("mq", "user")}, "guest", "", ""},
		{"missing password secret", &v1alpha1.BasicAuth{Username: ref("mq", "user"), Password: ref("mq", "nope")}, "", "", "secret not found: auth.password"},
		{"both missing", &v1alpha1.BasicAuth{Username: ref("mq", "a"), Password: ref("mq", "b")}, "", "", "secret mq key b (set FLINT_SECRET_MQ_B): secret not found: auth.password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ferr := conn.ResolveBasicAuth(context.Background(), tc.auth, secrets)
			if tc.wantErr != "" {
				if ferr == nil || !strings.Contains(ferr.ViaField("auth").Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", ferr.ViaField("auth"), tc.wantErr)
				}
				return
			}
			if ferr != nil {
				t.Fatal(ferr)
			}
			if got.Username != tc.wantUser || got.Password != tc.wantPass {
				t.Fatalf("got %q/%q, want %q/%q", got.Username, got.Password, tc.wantUser, tc.wantPass)
			}
			if s := fmt.Sprintf("%v %+v %#v", got, *got, got); strings.Contains(s, "hunter2") {
				t.Fatalf("printing BasicAuth shows the password: %s", s)
			}
		})
	}
	if b, err := conn.ResolveBasicAuth(context.Background(), nil, secrets); b != nil || err != nil {
		t.Fatalf("ResolveBasicAuth(nil) = %v, %v; want no auth", b, err)
	}
}
