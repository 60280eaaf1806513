// Package http implements the Argo Events `http` trigger: one HTTP request per
// firing, whose body is the payload the engine built from the `payload` list.
package http

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/triggers"
)

const (
	// DefaultTimeout bounds a request when the spec sets no `timeout`.
	DefaultTimeout = 60 * time.Second
	// MaxResponseBody is how many bytes of the answer Result.Body keeps; the rest is dropped.
	MaxResponseBody = 1 << 20

	// setupTimeout bounds the secret lookups done while building the client.
	setupTimeout = 30 * time.Second
)

func init() { triggers.Register(v1alpha1.TriggerTypeHTTP, New, facts()...) }

// Trigger sends one HTTP request per firing through a client built once for
// the trigger (keep-alive connections, the spec's TLS settings).
type Trigger struct {
	client  *http.Client
	secrets secret.Resolver
	logger  *zap.Logger
}

// New builds the trigger and its HTTP client. TLS settings and their secrets
// are read here, once; header and basic auth secrets at every firing, so
// parameters may change them. Problems are relative to the spec (`tls.caCertSecret`).
func New(spec *v1alpha1.HTTPTrigger, deps triggers.Deps) (triggers.Trigger[v1alpha1.HTTPTrigger], error) {
	if err := checkSecureHeaders(spec.SecureHeaders); err != nil {
		return nil, err
	}
	transport := deps.Transport
	if spec.TLS != nil || transport == nil {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		tlsCfg, err := conn.TLS(ctx, spec.TLS, deps.Secrets)
		if err != nil {
			return nil, err
		}
		transport = triggers.NewTransport(tlsCfg)
	}
	logger := deps.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Trigger{
		client:  &http.Client{Transport: transport},
		secrets: deps.Secrets,
		logger:  logger.With(zap.String("triggerType", v1alpha1.TriggerTypeHTTP)),
	}, nil
}

// checkSecureHeaders rejects header sources flint cannot read.
func checkSecureHeaders(headers []*v1alpha1.SecureHeader) *apis.FieldError {
	var errs *apis.FieldError
	for i, h := range headers {
		var herr *apis.FieldError
		switch {
		case h == nil || h.ValueFrom == nil:
			herr = apis.ErrMissingField("valueFrom")
		case h.ValueFrom.SecretKeyRef == nil && h.ValueFrom.ConfigMapKeyRef != nil:
			herr = apis.ErrGeneric("not supported, use secretKeyRef", "valueFrom.configMapKeyRef")
		case h.ValueFrom.SecretKeyRef == nil:
			herr = apis.ErrMissingField("valueFrom.secretKeyRef")
		}
		errs = errs.Also(herr.ViaFieldIndex("secureHeaders", i))
	}
	return errs
}

// Close releases the client's idle connections.
func (t *Trigger) Close() error {
	t.client.CloseIdleConnections()
	return nil
}

// Fire sends the request the resolved spec describes, with the firing's
// payload as its body, and returns the answer whatever its status; only a
// failure to get an answer is an error.
func (t *Trigger) Fire(ctx context.Context, spec *v1alpha1.HTTPTrigger, in triggers.Firing) (triggers.Result, error) {
	if spec.URL == "" {
		return triggers.Result{}, errors.New("http.url: required")
	}
	if err := checkSecureHeaders(spec.SecureHeaders); err != nil {
		return triggers.Result{}, fmt.Errorf("http: %w", err)
	}
	method := spec.Method
	if method == "" {
		method = http.MethodPost
	}
	var body io.Reader = http.NoBody
	if in.Payload != nil {
		body = bytes.NewReader(in.Payload)
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
	if err := t.setHeaders(ctx, req, spec, in.IdempotencyKey); err != nil {
		return triggers.Result{}, err
	}

	resp, err := t.client.Do(req)
	if err != nil {
		return triggers.Result{}, fmt.Errorf("http: sending %s %s: %w", method, redact(spec.URL), err)
	}
	defer func() { _ = resp.Body.Close() }()
	var answer []byte
	if resp.ContentLength != 0 { // most targets answer with no body: no buffer for it
		if answer, err = io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody)); err != nil {
			return triggers.Result{StatusCode: resp.StatusCode}, fmt.Errorf("http: reading response of %s %s: %w", method, redact(spec.URL), err)
		}
	}
	if ce := t.logger.Check(zap.DebugLevel, "http trigger request"); ce != nil {
		ce.Write(zap.String("sensor", in.Sensor), zap.String("trigger", in.Trigger), zap.String("method", method),
			zap.String("url", redact(spec.URL)), zap.Int("status", resp.StatusCode))
	}
	return triggers.Result{StatusCode: resp.StatusCode, Body: answer}, nil
}

// setHeaders sets, in order (a later one wins): Content-Type and
// Idempotency-Key, `headers` (with the engine's dynamic headers),
// `secureHeaders`, `basicAuth`, `host`.
func (t *Trigger) setHeaders(ctx context.Context, req *http.Request, spec *v1alpha1.HTTPTrigger, idempotencyKey string) error {
	req.Header.Set("Content-Type", "application/json")
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	for name, value := range spec.Headers {
		req.Header.Set(name, value)
	}
	for i, h := range spec.SecureHeaders {
		value, err := secret.Value(ctx, t.secrets, h.ValueFrom.SecretKeyRef, fmt.Sprintf("http.secureHeaders[%d].valueFrom.secretKeyRef", i))
		if err != nil {
			return err
		}
		req.Header.Set(h.Name, value)
	}
	basic, ferr := conn.ResolveBasicAuth(ctx, spec.BasicAuth, t.secrets)
	if ferr != nil {
		return fmt.Errorf("http: %w", ferr.ViaField("basicAuth").ViaField("http"))
	}
	if basic != nil {
		req.SetBasicAuth(basic.Username, basic.Password)
	}
	if spec.Host != "" {
		req.Host = spec.Host
	}
	return nil
}

// redact hides a password in a URL for errors and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid url>"
	}
	return u.Redacted()
}
