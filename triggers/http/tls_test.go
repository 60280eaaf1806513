package http_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
	httptrigger "github.com/flintevents/flint/triggers/http"
)

// clientPKI is a CA and a client certificate it signed, as PEM.
type clientPKI struct {
	pool            *x509.CertPool
	certPEM, keyPEM string
	otherKeyPEM     string // a key that does not match certPEM
	strangerCertPEM string // a client certificate from another CA
	strangerKeyPEM  string
	commonName      string
}

func newClientPKI(t *testing.T) clientPKI {
	t.Helper()
	ca, caKey := selfSigned(t, "flint test CA")
	stranger, strangerKey := selfSigned(t, "stranger")
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "flint-sensor"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return clientPKI{
		pool:            pool,
		certPEM:         certPEM(der),
		keyPEM:          keyPEM(t, key),
		otherKeyPEM:     keyPEM(t, newKey(t)),
		strangerCertPEM: certPEM(stranger.Raw),
		strangerKeyPEM:  keyPEM(t, strangerKey),
		commonName:      "flint-sensor",
	}
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func selfSigned(t *testing.T, cn string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func certPEM(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func keyPEM(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

// TestFireMutualTLS: with tls.clientCertSecret and tls.clientKeySecret the
// trigger presents its certificate to a server that requires one, as Argo's
// http trigger does.
func TestFireMutualTLS(t *testing.T) {
	t.Parallel()
	pki := newClientPKI(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hello " + r.TLS.PeerCertificates[0].Subject.CommonName))
	}))
	srv.TLS = &tls.Config{ClientCAs: pki.pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	serverCA := certPEM(srv.Certificate().Raw)
	deps := triggers.Deps{Secrets: secrets(map[[2]string]string{
		{"tls", "ca"}:            serverCA,
		{"tls", "cert"}:          pki.certPEM,
		{"tls", "key"}:           pki.keyPEM,
		{"tls", "stranger-cert"}: pki.strangerCertPEM,
		{"tls", "stranger-key"}:  pki.strangerKeyPEM,
	})}
	tests := []struct {
		name    string
		tls     *v1alpha1.TLSConfig
		want    string // the answer; "" when the request must fail
		wantErr string
	}{{
		name: "client certificate presented",
		tls:  &v1alpha1.TLSConfig{CACertSecret: secretRef("tls", "ca"), ClientCertSecret: secretRef("tls", "cert"), ClientKeySecret: secretRef("tls", "key")},
		want: "hello " + pki.commonName,
	}, {
		name: "client certificate with insecureSkipVerify",
		tls:  &v1alpha1.TLSConfig{InsecureSkipVerify: true, ClientCertSecret: secretRef("tls", "cert"), ClientKeySecret: secretRef("tls", "key")},
		want: "hello " + pki.commonName,
	}, {
		name:    "no client certificate is refused by the server",
		tls:     &v1alpha1.TLSConfig{CACertSecret: secretRef("tls", "ca")},
		wantErr: "http: sending POST",
	}, {
		name:    "a certificate from another CA is refused by the server",
		tls:     &v1alpha1.TLSConfig{CACertSecret: secretRef("tls", "ca"), ClientCertSecret: secretRef("tls", "stranger-cert"), ClientKeySecret: secretRef("tls", "stranger-key")},
		wantErr: "http: sending POST",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := fire(t, context.Background(), &v1alpha1.HTTPTrigger{URL: srv.URL, TLS: tc.tls}, deps, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Fire: %v", err)
			}
			if res.StatusCode != http.StatusOK || string(res.Body) != tc.want {
				t.Fatalf("result = %d %q, want 200 %q", res.StatusCode, res.Body, tc.want)
			}
		})
	}
}

func TestNewTLSKeyPairProblems(t *testing.T) {
	t.Parallel()
	pki := newClientPKI(t)
	deps := triggers.Deps{Secrets: secrets(map[[2]string]string{
		{"tls", "cert"}:      pki.certPEM,
		{"tls", "other-key"}: pki.otherKeyPEM,
	})}
	tests := []struct {
		name string
		tls  *v1alpha1.TLSConfig
		want string
	}{
		{"key does not match the certificate", &v1alpha1.TLSConfig{ClientCertSecret: secretRef("tls", "cert"), ClientKeySecret: secretRef("tls", "other-key")},
			"tls.clientCertSecret"},
		{"key secret missing", &v1alpha1.TLSConfig{ClientCertSecret: secretRef("tls", "cert"), ClientKeySecret: secretRef("tls", "nope")},
			"tls.clientKeySecret"},
		{"key without certificate", &v1alpha1.TLSConfig{ClientKeySecret: secretRef("tls", "other-key")},
			"missing field(s): tls.clientCertSecret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := httptrigger.New(&v1alpha1.HTTPTrigger{URL: "https://x", TLS: tc.tls}, deps)
			var fe *apis.FieldError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a FieldError naming %q", err, tc.want)
			}
		})
	}
}

// TestFireHeaderPrecedence: Argo sets `headers`, then `secureHeaders`, then
// basic auth, each overriding the one before for the same header name.
func TestFireHeaderPrecedence(t *testing.T) {
	t.Parallel()
	tg := newTarget(t, false, http.StatusOK, "")
	spec := &v1alpha1.HTTPTrigger{
		URL: tg.URL,
		Headers: map[string]string{
			"Authorization": "plain",
			"X-Token":       "plain",
			"X-Plain":       "kept",
		},
		SecureHeaders: []*v1alpha1.SecureHeader{
			{Name: "X-Token", ValueFrom: &v1alpha1.ValueFromSource{SecretKeyRef: secretRef("api", "token")}},
			{Name: "Authorization", ValueFrom: &v1alpha1.ValueFromSource{SecretKeyRef: secretRef("api", "token")}},
			{Name: "X-User", ValueFrom: &v1alpha1.ValueFromSource{SecretKeyRef: secretRef("auth", "user")}},
		},
		BasicAuth: &v1alpha1.BasicAuth{Username: secretRef("auth", "user")},
	}
	if _, err := fire(t, context.Background(), spec, triggers.Deps{Secrets: testSecrets}, nil); err != nil {
		t.Fatal(err)
	}
	r := tg.only(t)
	want := map[string]string{
		"X-Plain": "kept",
		"X-Token": "Bearer s3cr3t",
		"X-User":  "alice",
	}
	for k, v := range want {
		if got := r.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("header %s = %q, want [%q]", k, got, v)
		}
	}
	user, pass, ok := (&http.Request{Header: r.Header}).BasicAuth()
	if !ok || user != "alice" || pass != "" {
		t.Errorf("Authorization = basic %q %q %v, want basic auth alice with an empty password", user, pass, ok)
	}
}

// TestFireDefaultTimeout: a spec without `timeout` waits 60 seconds, as Argo.
func TestFireDefaultTimeout(t *testing.T) {
	t.Parallel()
	if httptrigger.DefaultTimeout != 60*time.Second {
		t.Fatalf("DefaultTimeout = %s, want 60s", httptrigger.DefaultTimeout)
	}
	srv := blockingTarget(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := fire(t, ctx, &v1alpha1.HTTPTrigger{URL: srv.URL}, triggers.Deps{}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) < 2*time.Second-100*time.Millisecond {
		t.Fatalf("Fire without timeout = %v after %s, want it to wait for the caller's 2s deadline", err, time.Since(start))
	}
}
