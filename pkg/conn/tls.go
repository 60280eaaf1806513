package conn

import (
	"context"
	"crypto/tls"
	"crypto/x509"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
)

// TLS returns the client TLS settings of Argo's `tls` block: the CA of
// `caCertSecret` as the only trusted roots (the system's when unset), the
// key pair of `clientCertSecret` and `clientKeySecret` (set together), and
// `insecureSkipVerify`. A nil block is no TLS: nil, nil. `enabled` needs
// nothing more, a block alone turns TLS on. Problems are at `tls.<field>`.
func TLS(ctx context.Context, cfg *v1alpha1.TLSConfig, secrets secret.Resolver) (*tls.Config, *apis.FieldError) {
	if cfg == nil {
		return nil, nil
	}
	c, err := tlsConfig(ctx, cfg, secrets)
	return c, err.ViaField("tls")
}

func tlsConfig(ctx context.Context, cfg *v1alpha1.TLSConfig, secrets secret.Resolver) (*tls.Config, *apis.FieldError) {
	c := &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // the user asked for it in the YAML.
	if cfg.CACertSecret != nil {
		pem, err := SecretValue(ctx, secrets, cfg.CACertSecret, "caCertSecret")
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(pem)) {
			return nil, apis.ErrGeneric("no PEM certificate found", "caCertSecret")
		}
		c.RootCAs = pool
	}
	switch {
	case cfg.ClientCertSecret != nil && cfg.ClientKeySecret != nil:
		certPEM, err := SecretValue(ctx, secrets, cfg.ClientCertSecret, "clientCertSecret")
		if err != nil {
			return nil, err
		}
		keyPEM, err := SecretValue(ctx, secrets, cfg.ClientKeySecret, "clientKeySecret")
		if err != nil {
			return nil, err
		}
		cert, perr := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if perr != nil {
			return nil, apis.ErrGeneric("loading key pair: "+perr.Error(), "clientCertSecret")
		}
		c.Certificates = []tls.Certificate{cert}
	case cfg.ClientCertSecret != nil:
		return nil, apis.ErrMissingField("clientKeySecret")
	case cfg.ClientKeySecret != nil:
		return nil, apis.ErrMissingField("clientCertSecret")
	}
	return c, nil
}
