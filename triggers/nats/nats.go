// Package nats implements the Argo Events `nats` trigger: a firing
// publishes its payload on `subject` of the NATS server at `url`, with the
// trigger's `tls` and `auth` (basic, token, nkey seed, credentials file).
//
// Argo publishes and returns, so a message the server never got still
// counts as fired. Here a firing publishes, then flushes (a round trip to
// the server), and fails unless the server took the message; the client
// keeps no buffer while it reconnects, so a failed firing is never sent
// later behind the retry. The connection is made at the first firing and
// kept; a firing whose (parameterised) url differs connects there instead.
// The subject is the firing's, after parameters; Argo publishes on the
// template's subject whatever type-level parameters say.
package nats

import (
	"context"
	"crypto/tls"
	"fmt"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn"
	"github.com/flintevents/flint/pkg/conn/natsconn"
	"github.com/flintevents/flint/triggers"
)

// AttemptTimeout bounds one firing: connecting when needed, publishing and
// the flush that confirms it.
const AttemptTimeout = 10 * time.Second

// setupTimeout bounds reading the secrets when the trigger is built.
const setupTimeout = 10 * time.Second

func init() { triggers.Register(v1alpha1.TriggerTypeNATS, New, facts()...) }

// Trigger publishes firings on one NATS connection, made at the first
// firing. It is safe for concurrent firings.
type Trigger struct {
	tls    *tls.Config
	auth   *conn.NATSAuth
	logger *zap.Logger

	mu  sync.Mutex // guards nc and url
	nc  *natsgo.Conn
	url string
}

// New reads the trigger's TLS and auth secrets; it connects to nothing.
// Problems are *apis.FieldError at `tls.<field>` and `auth.<member>`.
func New(spec *v1alpha1.NATSTrigger, deps triggers.Deps) (triggers.Trigger[v1alpha1.NATSTrigger], error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	tlsCfg, ferr := conn.TLS(ctx, spec.TLS, deps.Secrets)
	auth, aerr := conn.ResolveNATSAuth(ctx, spec.Auth, deps.Secrets)
	if errs := ferr.Also(aerr); errs != nil {
		return nil, errs
	}
	logger := deps.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Trigger{tls: tlsCfg, auth: auth, logger: logger.With(zap.String("triggerType", v1alpha1.TriggerTypeNATS))}, nil
}

// Fire publishes the payload on spec.Subject and flushes: it returns nil
// only once the server took the message. It has no status for a policy.
func (t *Trigger) Fire(ctx context.Context, spec *v1alpha1.NATSTrigger, in triggers.Firing) (triggers.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, AttemptTimeout)
	defer cancel()
	nc, err := t.conn(ctx, spec.URL)
	if err != nil {
		return triggers.Result{}, err
	}
	if err := nc.Publish(spec.Subject, in.Payload); err != nil {
		return triggers.Result{}, fmt.Errorf("publishing on %q: %w", spec.Subject, err)
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		return triggers.Result{}, fmt.Errorf("publishing on %q: the server did not confirm: %w", spec.Subject, err)
	}
	return triggers.Result{}, nil
}

// conn returns the connection to url, connecting first when there is none,
// it closed, or it goes to another url. Connecting stops waiting when ctx
// ends (the client's own connect is bounded by its timeout).
func (t *Trigger) conn(ctx context.Context, url string) (*natsgo.Conn, error) {
	t.mu.Lock()
	if t.nc != nil && !t.nc.IsClosed() && t.url == url {
		nc := t.nc
		t.mu.Unlock()
		return nc, nil
	}
	t.mu.Unlock()
	timeout := AttemptTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	opts := append(natsconn.Options(t.tls, t.auth),
		natsgo.Name("flint nats trigger"),
		natsgo.Timeout(timeout),
		natsgo.ReconnectBufSize(-1),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, _ *natsgo.Subscription, err error) {
			t.logger.Warn("nats client error", zap.Error(err))
		}),
	)
	type dialed struct {
		nc  *natsgo.Conn
		err error
	}
	done := make(chan dialed, 1)
	go func() {
		nc, err := natsgo.Connect(url, opts...)
		done <- dialed{nc, err}
	}()
	var d dialed
	select {
	case d = <-done:
	case <-ctx.Done():
		go func() {
			if d := <-done; d.nc != nil {
				d.nc.Close()
			}
		}()
		return nil, fmt.Errorf("connecting to %s: %w", url, ctx.Err())
	}
	if d.err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", url, d.err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.nc != nil && !t.nc.IsClosed() && t.url == url { // another firing connected first
		d.nc.Close()
		return t.nc, nil
	}
	if t.nc != nil {
		t.nc.Close()
	}
	t.nc, t.url = d.nc, url
	return d.nc, nil
}

// Close closes the connection; every firing that returned nil was flushed.
func (t *Trigger) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.nc != nil {
		t.nc.Close()
		t.nc = nil
	}
	return nil
}
