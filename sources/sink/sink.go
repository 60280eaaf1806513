// Package sink delivers CloudEvents to a source's sink (the broker ingress
// named by K_SINK) over HTTP in binary mode.
package sink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/flintevents/flint/sources"
)

// Environment variables of the Knative source contract that FromEnv reads.
const (
	EnvSink    = "K_SINK"
	EnvCACerts = "K_CA_CERTS"
)

// Defaults for a Sink; each has an Option.
const (
	DefaultRetries = 3
	DefaultBackoff = 50 * time.Millisecond
	DefaultTimeout = 30 * time.Second
)

// StatusError is returned by Emit when the sink answered with a non-2xx status.
type StatusError struct {
	Code int
	Body string
}

// Error implements error.
func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("sink answered %d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("sink answered %d %s: %s", e.Code, http.StatusText(e.Code), e.Body)
}

// Sink posts CloudEvents to one URL. It is safe for concurrent use.
type Sink struct {
	target  string
	client  *http.Client
	retries int
	backoff time.Duration
	timeout time.Duration
}

// Option configures a Sink.
type Option func(*Sink)

// WithClient replaces the HTTP client (by default a keep-alive client sized for bursts).
func WithClient(c *http.Client) Option { return func(s *Sink) { s.client = c } }

// WithRetries sets how many times a connection error, 5xx or 429 is retried.
func WithRetries(n int) Option { return func(s *Sink) { s.retries = max(n, 0) } }

// WithBackoff sets the wait before the first retry; it doubles on each retry.
func WithBackoff(d time.Duration) Option { return func(s *Sink) { s.backoff = d } }

// WithTimeout bounds one delivery attempt.
func WithTimeout(d time.Duration) Option { return func(s *Sink) { s.timeout = d } }

// New returns a Sink posting to target, an absolute http(s) URL.
func New(target string, opts ...Option) (*Sink, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("parsing sink URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sink URL %q: want an absolute http or https URL", target)
	}
	s := &Sink{
		target:  target,
		retries: DefaultRetries,
		backoff: DefaultBackoff,
		timeout: DefaultTimeout,
	}
	for _, o := range opts {
		o(s)
	}
	if s.client == nil {
		s.client = &http.Client{Transport: NewTransport(nil)}
	}
	return s, nil
}

// NewTransport returns the keep-alive transport a Sink uses by default: many idle
// connections per host so that a burst reuses them instead of dialing, short
// dial and TLS handshake timeouts. roots, when not nil, are the trusted CAs.
func NewTransport(roots *x509.CertPool) *http.Transport {
	t := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:          1000,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	if roots != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return t
}

// URL returns the sink URL.
func (s *Sink) URL() string { return s.target }

// Emit posts ev to the sink and returns nil only when the sink answered 2xx.
// Connection errors, 5xx and 429 are retried with a doubling backoff while ctx
// allows; the event keeps its id, so the broker drops a duplicate delivery. A
// 413 is sources.TooLarge, with the sink's answer as its reason. When an
// attempt may have reached the broker unanswered (no answer after the request
// was sent, a 504 or another 5xx than 503) and none answered since, the
// failure is sources.NotConfirmed: the event may be stored. Emit matches
// host.Sink.
func (s *Sink) Emit(ctx context.Context, ev cloudevents.Event) error {
	wait := s.backoff
	maybeStored := false
	for attempt := 0; ; attempt++ {
		err := s.post(ctx, &ev)
		if err == nil {
			return nil
		}
		maybeStored = maybeStored || !surelyNotStored(err)
		if attempt >= s.retries || !retryable(err) || ctx.Err() != nil {
			err = fmt.Errorf("emitting event %s to %s (attempt %d): %w", ev.ID(), s.target, attempt+1, err)
			if se := (*StatusError)(nil); errors.As(err, &se) && se.Code == http.StatusRequestEntityTooLarge {
				return sources.TooLarge(tooLargeReason(se), err)
			}
			if maybeStored {
				return sources.NotConfirmed(err)
			}
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			err = fmt.Errorf("emitting event %s to %s (attempt %d): %w", ev.ID(), s.target, attempt+1, errors.Join(err, ctx.Err()))
			if maybeStored {
				return sources.NotConfirmed(err)
			}
			return err
		case <-t.C:
		}
		wait *= 2
	}
}

func (s *Sink) post(ctx context.Context, ev *cloudevents.Event) error {
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target, nil)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(ev), req); err != nil {
		return fmt.Errorf("encoding event: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("posting event: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return &StatusError{Code: resp.StatusCode, Body: string(body)}
}

// tooLargeReason is the ingress's account of its 413, which names its limit.
func tooLargeReason(se *StatusError) string {
	if r := strings.TrimSpace(se.Body); r != "" {
		return r
	}
	return sources.ErrEventTooLarge.Error()
}

// surelyNotStored reports whether a failed attempt surely did not store the
// event: the sink answered it with a 4xx, a 503 (the broker's "not stored")
// or a 429, or the request never left (no connection could be made).
func surelyNotStored(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code < 500 || se.Code == http.StatusServiceUnavailable
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// retryable reports whether a failed attempt may succeed when repeated: a
// transport error (no answer) or a 5xx/429 answer.
func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code >= 500 || se.Code == http.StatusTooManyRequests
	}
	return true
}

// FromEnv builds a Sink from the Knative source environment: K_SINK (required)
// and K_CA_CERTS (PEM roots for an https sink). K_CE_OVERRIDES is the host's
// to apply when it stamps events.
func FromEnv(opts ...Option) (*Sink, error) {
	return FromGetenv(os.Getenv, opts...)
}

// FromGetenv is FromEnv reading variables through getenv.
func FromGetenv(getenv func(string) string, opts ...Option) (*Sink, error) {
	target := getenv(EnvSink)
	if target == "" {
		return nil, fmt.Errorf("%s is not set", EnvSink)
	}
	var pre []Option
	if pem := getenv(EnvCACerts); pem != "" {
		roots, err := x509.SystemCertPool()
		if err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM([]byte(pem)) {
			return nil, fmt.Errorf("%s holds no PEM certificate", EnvCACerts)
		}
		pre = append(pre, WithClient(&http.Client{Transport: NewTransport(roots)}))
	}
	return New(target, append(pre, opts...)...)
}
