package kafka_test

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

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	corev1 "k8s.io/api/core/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/kafka"
	"github.com/flintevents/flint/sources/sourcetest"
)

// selfSigned is a certificate for 127.0.0.1 and its PEM.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kfake"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestTLS(t *testing.T) {
	cert, caPEM := selfSigned(t)
	cluster := newCluster(t, "orders", kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	addr := cluster.ListenAddrs()[0]
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(caPEM))
	produce(t, addr, []*kgo.Record{{Topic: "orders", Value: []byte("over tls")}},
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))

	es := load(t, "group.yaml", addr)
	e := es.Spec.Kafka["orders"]
	e.TLS = &v1alpha1.TLSConfig{CACertSecret: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "kafka"}, Key: "ca"}}
	es.Spec.Kafka["orders"] = e
	deps := sources.Deps{Secrets: secret.Local{Getenv: func(k string) (string, bool) {
		return caPEM, k == secret.EnvName("kafka", "ca")
	}}}
	rec := &sourcetest.Recorder{}
	sourcetest.Start(t, kafka.New, es, deps, rec.Emit)
	var got []sources.Event
	waitEvents(t, rec, 1, &got)
	if body := bodyOf(t, got[0]); body != "over tls" {
		t.Errorf("body %q, want over tls", body)
	}
}
