// Package http implements the Argo Events `http` trigger: one HTTP request per
// firing, its body built from the firing's events by the trigger's `payload` list.
package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/pkg/sensor"
	"github.com/flintevents/flint/triggers"
)

const (
	// DefaultTimeout bounds a request when the template sets no `timeout`.
	DefaultTimeout = 60 * time.Second
	// MaxResponseBody is how many bytes of the answer Result.Body keeps; the rest is dropped.
	MaxResponseBody = 1 << 20

	// maxIdleConnsPerHost keeps enough warm connections for a burst of
	// concurrent firings against one target.
	maxIdleConnsPerHost = 64
	// setupTimeout bounds the secret lookups done while building the client.
	setupTimeout = 30 * time.Second
)

// ErrUnsupported marks a field flint accepts in the YAML but cannot act on.
var ErrUnsupported = errors.New("not supported")

func init() {
	triggers.Register(v1alpha1.TriggerTypeHTTP, func(tmpl *v1alpha1.TriggerTemplate, deps triggers.Deps) (triggers.Trigger, error) {
		return New(tmpl, deps)
	})
}

// Trigger sends one HTTP request per firing through a client built once for
// the trigger (keep-alive connections, the template's TLS settings).
type Trigger struct {
	client  *http.Client
	secrets secret.Resolver
	logger  *zap.Logger
	// base is the template's http key at construction and payload its
	// compiled payload, used for every firing that parameters did not rewrite.
	base    *v1alpha1.HTTPTrigger
	payload *sensor.Parameters
}

// New builds the trigger and its HTTP client from the template's `http` key.
// TLS settings and secrets are read here, once; header and basic auth secrets
// at every firing, so parameters may change them.
func New(tmpl *v1alpha1.TriggerTemplate, deps triggers.Deps) (*Trigger, error) {
	if tmpl == nil || tmpl.HTTP == nil {
		return nil, errors.New("http: template has no http trigger")
	}
	if err := checkSecureHeaders(tmpl.HTTP.SecureHeaders); err != nil {
		return nil, err
	}
	var tlsCfg *tls.Config
	if tmpl.HTTP.TLS != nil {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		var err error
		if tlsCfg, err = tlsConfig(ctx, tmpl.HTTP.TLS, deps.Secrets); err != nil {
			return nil, fmt.Errorf("http.tls.%w", err)
		}
	}
	var payload *sensor.Parameters
	if len(tmpl.HTTP.Payload) > 0 {
		var err error
		if payload, err = sensor.CompileParameters(tmpl.HTTP.Payload); err != nil {
			return nil, fmt.Errorf("http.payload%w", err)
		}
	}
	logger := zap.NewNop()
	if deps.Logger != nil {
		logger = deps.Logger.Desugar()
	}
	return &Trigger{
		client:  &http.Client{Transport: newTransport(tlsCfg)},
		secrets: deps.Secrets,
		logger:  logger.With(zap.String("trigger", tmpl.Name), zap.String("triggerType", v1alpha1.TriggerTypeHTTP)),
		base:    tmpl.HTTP,
		payload: payload,
	}, nil
}

// newTransport is a keep-alive transport sized for bursts of concurrent
// requests to the same host.
func newTransport(tlsCfg *tls.Config) *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig:       tlsCfg,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * maxIdleConnsPerHost,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// tlsConfig builds the client TLS settings; its errors start with the field name.
func tlsConfig(ctx context.Context, cfg *v1alpha1.TLSConfig, secrets secret.Resolver) (*tls.Config, error) {
	c := &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // the user asked for it in the YAML.
	if cfg.CACertSecret != nil {
		pem, err := resolve(ctx, secrets, cfg.CACertSecret)
		if err != nil {
			return nil, fmt.Errorf("caCertSecret: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(pem)) {
			return nil, errors.New("caCertSecret: no PEM certificate found")
		}
		c.RootCAs = pool
	}
	switch {
	case cfg.ClientCertSecret != nil && cfg.ClientKeySecret != nil:
		certPEM, err := resolve(ctx, secrets, cfg.ClientCertSecret)
		if err != nil {
			return nil, fmt.Errorf("clientCertSecret: %w", err)
		}
		keyPEM, err := resolve(ctx, secrets, cfg.ClientKeySecret)
		if err != nil {
			return nil, fmt.Errorf("clientKeySecret: %w", err)
		}
		cert, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if err != nil {
			return nil, fmt.Errorf("clientCertSecret: loading key pair: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	case cfg.ClientCertSecret != nil:
		return nil, errors.New("clientKeySecret: required with clientCertSecret")
	case cfg.ClientKeySecret != nil:
		return nil, errors.New("clientCertSecret: required with clientKeySecret")
	}
	return c, nil
}

// checkSecureHeaders rejects header sources flint cannot read.
func checkSecureHeaders(headers []*v1alpha1.SecureHeader) error {
	for i, h := range headers {
		if h == nil || h.ValueFrom == nil {
			return fmt.Errorf("http.secureHeaders[%d].valueFrom: required", i)
		}
		if h.ValueFrom.SecretKeyRef == nil {
			if h.ValueFrom.ConfigMapKeyRef != nil {
				return fmt.Errorf("http.secureHeaders[%d].valueFrom.configMapKeyRef: %w, use secretKeyRef", i, ErrUnsupported)
			}
			return fmt.Errorf("http.secureHeaders[%d].valueFrom.secretKeyRef: required", i)
		}
	}
	return nil
}

func resolve(ctx context.Context, secrets secret.Resolver, ref *corev1.SecretKeySelector) (string, error) {
	if secrets == nil {
		return "", errors.New("no secret resolver configured")
	}
	return secrets.Resolve(ctx, ref)
}

// Close releases the client's idle connections.
func (t *Trigger) Close() error {
	t.client.CloseIdleConnections()
	return nil
}

// Fire sends the request the firing's template describes and returns the
// answer whatever its status; only a failure to get an answer is an error.
func (t *Trigger) Fire(ctx context.Context, in triggers.Firing) (triggers.Result, error) {
	if in.Template == nil || in.Template.HTTP == nil {
		return triggers.Result{}, errors.New("http: firing template has no http trigger")
	}
	spec, err := applyParameters(in.Template.HTTP, in)
	if err != nil {
		return triggers.Result{}, err
	}
	if spec.URL == "" {
		return triggers.Result{}, errors.New("http.url: required")
	}
	if err := checkSecureHeaders(spec.SecureHeaders); err != nil {
		return triggers.Result{}, err
	}
	method := spec.Method
	if method == "" {
		method = http.MethodPost
	}
	var body io.Reader = http.NoBody
	if len(spec.Payload) > 0 {
		var payload []byte
		if spec == t.base && t.payload != nil {
			payload, err = t.payload.Payload(in.Events)
		} else {
			payload, err = sensor.Payload(spec.Payload, in.Events)
		}
		if err != nil {
			return triggers.Result{}, fmt.Errorf("http.%w", err) // "http.payload[i]: …"
		}
		body = bytes.NewReader(payload)
	}
	timeout := DefaultTimeout
	if spec.Timeout > 0 {
		timeout = time.Duration(spec.Timeout) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, method, spec.URL, body)
	if err != nil {
		return triggers.Result{}, fmt.Errorf("http.url: %w", err)
	}
	if err := t.setHeaders(ctx, req, spec, in); err != nil {
		return triggers.Result{}, err
	}

	resp, err := t.client.Do(req)
	if err != nil {
		return triggers.Result{}, fmt.Errorf("http: sending %s %s: %w", method, redact(spec.URL), err)
	}
	defer func() { _ = resp.Body.Close() }()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	if err != nil {
		return triggers.Result{StatusCode: resp.StatusCode}, fmt.Errorf("http: reading response of %s %s: %w", method, redact(spec.URL), err)
	}
	if ce := t.logger.Check(zap.DebugLevel, "http trigger request"); ce != nil {
		ce.Write(zap.String("sensor", in.Sensor), zap.String("method", method),
			zap.String("url", redact(spec.URL)), zap.Int("status", resp.StatusCode))
	}
	return triggers.Result{StatusCode: resp.StatusCode, Body: answer}, nil
}

// applyParameters applies the http trigger's own `parameters` to its JSON form,
// so that url, method, headers… can come from the events.
func applyParameters(spec *v1alpha1.HTTPTrigger, in triggers.Firing) (*v1alpha1.HTTPTrigger, error) {
	if len(spec.Parameters) == 0 {
		return spec, nil
	}
	doc, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("http.parameters: encoding trigger: %w", err)
	}
	doc, err = sensor.ApplyParameters(doc, spec.Parameters, in.Events)
	if err != nil {
		return nil, fmt.Errorf("http.%w", err) // "http.parameters[i]: …"
	}
	out := &v1alpha1.HTTPTrigger{}
	if err := json.Unmarshal(doc, out); err != nil {
		return nil, fmt.Errorf("http.parameters: decoding parameterized trigger: %w", err)
	}
	return out, nil
}

// setHeaders sets, in order (a later one wins): Content-Type and
// Idempotency-Key, `headers`, `dynamicHeaders`, `secureHeaders`, `basicAuth`, `host`.
func (t *Trigger) setHeaders(ctx context.Context, req *http.Request, spec *v1alpha1.HTTPTrigger, in triggers.Firing) error {
	req.Header.Set("Content-Type", "application/json")
	if in.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", in.IdempotencyKey)
	}
	for name, value := range spec.Headers {
		req.Header.Set(name, value)
	}
	for i, p := range spec.DynamicHeaders {
		value, ok, err := paramValue(p, in)
		if err != nil {
			return fmt.Errorf("http.dynamicHeaders[%d]: %w", i, err)
		}
		if ok {
			req.Header.Set(p.Dest, value)
		}
	}
	for i, h := range spec.SecureHeaders {
		value, err := resolve(ctx, t.secrets, h.ValueFrom.SecretKeyRef)
		if err != nil {
			return fmt.Errorf("http.secureHeaders[%d].valueFrom.secretKeyRef: %w", i, err)
		}
		req.Header.Set(h.Name, value)
	}
	if ba := spec.BasicAuth; ba != nil {
		var user, pass string
		var err error
		if ba.Username != nil {
			if user, err = resolve(ctx, t.secrets, ba.Username); err != nil {
				return fmt.Errorf("http.basicAuth.username: %w", err)
			}
		}
		if ba.Password != nil {
			if pass, err = resolve(ctx, t.secrets, ba.Password); err != nil {
				return fmt.Errorf("http.basicAuth.password: %w", err)
			}
		}
		req.SetBasicAuth(user, pass)
	}
	if spec.Host != "" {
		req.Host = spec.Host
	}
	return nil
}

// paramValue resolves one dynamic header parameter (dest = header name); ok is
// false when the dependency has no event and the parameter no default value.
func paramValue(p v1alpha1.TriggerParameter, in triggers.Firing) (string, bool, error) {
	if p.Dest == "" {
		return "", false, errors.New("dest: header name required")
	}
	v, _, ok, err := sensor.ResolveParameter(p.Src, in.Events)
	return v, ok, err
}

// redact hides a password in a URL for errors and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid url>"
	}
	return u.Redacted()
}
