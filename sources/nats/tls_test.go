package nats_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"

	"github.com/flintevents/flint/sources"
)

// serverTLS is a self-signed certificate for 127.0.0.1: the server's
// config, and the certificate in PEM for a client to trust.
func serverTLS(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nats test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestTLS: with `tls.caCertSecret` the source verifies the server's
// certificate and receives; without trusting it, it never subscribes.
func TestTLS(t *testing.T) {
	t.Parallel()
	cfg, caPEM := serverTLS(t)
	srv := startServer(t, server.Options{TLSConfig: cfg, TLSTimeout: 2})
	col := newCollector()
	run(t, load(t, "testdata/tls.yaml", srv.URL()), sources.Deps{Secrets: secrets(map[string]string{"nats/ca": caPEM})}, col.emit)
	srv.waitSubscribed(t, 1)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(caPEM))
	nc := srv.connect(t, natsgo.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	if err := nc.Publish("orders", []byte("secure")); err != nil {
		t.Fatal(err)
	}
	if ev := col.wait(t, 1, 10*time.Second)[0]; !jsonEqual(t, ev.Data, `{"subject":"orders","body":"c2VjdXJl"}`) {
		t.Errorf("data %s", ev.Data)
	}

	untrusted := newCollector()
	es := load(t, "testdata/valid.yaml", srv.URL())
	run(t, es, sources.Deps{}, untrusted.emit)
	time.Sleep(500 * time.Millisecond)
	if n := srv.srv.NumSubscriptions() - srv.base; n != 1 {
		t.Fatalf("%d client subscriptions, want only the trusting source's", n)
	}
}
