package nsq

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/sourcetest"
)

// testCA is a CA and the PEM of a server certificate for 127.0.0.1 it signed.
type testCA struct {
	caPEM, certPEM, keyPEM []byte
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "nsqd"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{
		caPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
}

// TestTLS: against an nsqd offering TLS, an entry trusting the CA of
// `tls.caCertSecret` reads the message over TLS; one trusting another CA
// reads nothing and leaves it at nsqd.
func TestTLS(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(cert, ca.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, ca.keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	// TLS is offered, not required: nsqd would then refuse plain HTTP, which
	// the test's own calls use; the consumer's connection is checked to be TLS.
	s := startServer(t, "-tls-cert", cert, "-tls-key", key)
	secrets := map[string]string{
		secret.EnvName("nsq-tls", "ca.crt"):   string(ca.caPEM),
		secret.EnvName("other-tls", "ca.crt"): string(other.caPEM),
	}
	deps := sources.Deps{
		Logger:  testLogger(t),
		Secrets: secret.Local{Getenv: func(k string) (string, bool) { v, ok := secrets[k]; return v, ok }},
	}
	withCA := func(name string) func(*v1alpha1.NSQEventSource) {
		return func(e *v1alpha1.NSQEventSource) {
			e.TLS = &v1alpha1.TLSConfig{CACertSecret: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: "ca.crt"}}
		}
	}
	cases := []struct {
		name  string
		edit  func(*v1alpha1.NSQEventSource)
		reads bool
	}{
		{"the server's CA", withCA("nsq-tls"), true},
		{"another CA", withCA("other-tls"), false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			topic := "tls-" + string(rune('a'+i))
			s.CreateChannel(topic, "flint")
			src, err := newSource(entrySpec(t, s, topic, tc.edit), deps, testSettings())
			if err != nil {
				t.Fatalf("building the source: %v", err)
			}
			rec := &sourcetest.Recorder{}
			runBuilt(t, src, rec.Emit)
			if err := s.Publish(t.Context(), topic, [][]byte{[]byte("secret")}); err != nil {
				t.Fatal(err)
			}
			if tc.reads {
				if cs := settledAt(t, s, topic).Clients; len(cs) != 1 || !cs[0].TLS {
					t.Errorf("nsqd's clients of the channel %+v, want one over TLS", cs)
				}
				if evs := rec.Take(); len(evs) != 1 {
					t.Fatalf("emitted %d events, want 1", len(evs))
				}
				return
			}
			time.Sleep(1500 * time.Millisecond)
			if evs := rec.Take(); len(evs) != 0 {
				t.Fatalf("emitted %d events over an untrusted connection, want none", len(evs))
			}
			if st := s.Stats(topic, "flint"); st.Depth != 1 {
				t.Fatalf("nsqd holds %d messages, want the one published", st.Depth)
			}
		})
	}
}
