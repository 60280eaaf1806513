// Package webhook is the `webhook` event source type: every named entry of an
// EventSource's spec.webhook is an HTTP endpoint whose requests become events.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
)

// Type is the EventSource type key, and the CloudEvent type, of webhook events.
const Type = "webhook"

// DefaultShutdownTimeout bounds how long Run waits for in-flight requests once
// its context ends.
const DefaultShutdownTimeout = 30 * time.Second

// maskedAuthorization replaces the Authorization header in event data, so that
// credentials never reach the broker.
const maskedAuthorization = "*** Masked Auth Secret ***"

func init() {
	sources.Register(Type, func(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
		return New(es, deps)
	})
}

// Option tunes a Source beyond what the EventSource says.
type Option func(*options)

type options struct {
	host            string
	extensions      map[string]string
	now             func() time.Time
	shutdownTimeout time.Duration
}

// WithHost sets the host the ports are bound on; by default all interfaces.
func WithHost(host string) Option { return func(o *options) { o.host = host } }

// WithExtensions adds CloudEvent extension attributes (K_CE_OVERRIDES) to every event.
func WithExtensions(ext map[string]string) Option {
	return func(o *options) {
		if o.extensions == nil {
			o.extensions = make(map[string]string, len(ext))
		}
		for k, v := range ext {
			o.extensions[k] = v
		}
	}
}

// WithClock sets the clock that stamps the event time.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithShutdownTimeout bounds how long Run waits for in-flight requests on stop.
func WithShutdownTimeout(d time.Duration) Option {
	return func(o *options) { o.shutdownTimeout = d }
}

// Source serves every webhook entry of one EventSource: one HTTP server per
// port, one route per endpoint, and `/health` on each port.
type Source struct {
	eventSource string
	log         *zap.SugaredLogger
	secrets     secret.Resolver
	opts        options
	ports       []*portSpec

	started atomic.Bool
	ready   chan struct{}
	mu      sync.Mutex // guards addrs
	addrs   map[string]net.Addr
}

var _ sources.Source = (*Source)(nil)

// portSpec is what the EventSource says about one port.
type portSpec struct {
	port     string
	routes   map[string]*routeSpec // by endpoint
	cert     *corev1.SecretKeySelector
	key      *corev1.SecretKeySelector
	tlsOwner string // the entry that set cert and key
}

// routeSpec is one webhook entry.
type routeSpec struct {
	eventName  string
	endpoint   string
	method     string
	maxPayload int64
	metadata   []byte // encoded JSON, nil when empty
	filter     *sources.Filter
	auth       *corev1.SecretKeySelector
	basicUser  *corev1.SecretKeySelector
	basicPass  *corev1.SecretKeySelector
}

// New checks the webhook entries of es and returns their Source; nothing is
// bound or resolved until Run. deps.Secrets is needed only when an entry names
// a secret.
func New(es *v1alpha1.EventSource, deps sources.Deps, opts ...Option) (*Source, error) {
	if es == nil {
		return nil, errors.New("webhook: eventsource is nil")
	}
	if len(es.Spec.Webhook) == 0 {
		return nil, fmt.Errorf("webhook: eventsource %s has no spec.webhook entries", es.Name)
	}
	o := options{now: time.Now, shutdownTimeout: DefaultShutdownTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	probe := cloudevents.NewEvent()
	for k, v := range o.extensions {
		if err := probe.Context.SetExtension(k, v); err != nil {
			return nil, fmt.Errorf("webhook: extension %q: %w", k, err)
		}
	}
	log := deps.Logger
	if log == nil {
		log = zap.NewNop().Sugar()
	}
	s := &Source{
		eventSource: es.Name,
		log:         log,
		secrets:     deps.Secrets,
		opts:        o,
		ready:       make(chan struct{}),
		addrs:       map[string]net.Addr{},
	}

	names := make([]string, 0, len(es.Spec.Webhook))
	for name := range es.Spec.Webhook {
		names = append(names, name)
	}
	sort.Strings(names)
	byPort := map[string]*portSpec{}
	var errs []error
	for _, name := range names {
		entry := es.Spec.Webhook[name]
		r, err := newRoute(name, &entry)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if (r.auth != nil || r.basicUser != nil || entry.ServerCertSecret != nil) && deps.Secrets == nil {
			errs = append(errs, fmt.Errorf("spec.webhook.%s: names a secret but no secret resolver was given", name))
			continue
		}
		port := canonicalPort(entry.Port)
		p := byPort[port]
		if p == nil {
			p = &portSpec{port: port, routes: map[string]*routeSpec{}}
			byPort[port] = p
			s.ports = append(s.ports, p)
		}
		if other, dup := p.routes[r.endpoint]; dup {
			errs = append(errs, fmt.Errorf("spec.webhook.%s: port %s endpoint %s is already served by %s", name, port, r.endpoint, other.eventName))
			continue
		}
		if err := p.setTLS(name, entry.ServerCertSecret, entry.ServerKeySecret); err != nil {
			errs = append(errs, err)
			continue
		}
		p.routes[r.endpoint] = r
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("webhook: eventsource %s: %w", es.Name, err)
	}
	sort.Slice(s.ports, func(i, j int) bool { return s.ports[i].port < s.ports[j].port })
	return s, nil
}

func newRoute(name string, entry *v1alpha1.WebhookEventSource) (*routeSpec, error) {
	field := "spec.webhook." + name
	var errs []error
	if entry.Endpoint == "" {
		errs = append(errs, fmt.Errorf("%s.endpoint: required", field))
	}
	if n, err := strconv.Atoi(entry.Port); err != nil || n < 0 || n > 65535 {
		errs = append(errs, fmt.Errorf("%s.port: %q is not a port number", field, entry.Port))
	}
	if entry.Method == "" {
		errs = append(errs, fmt.Errorf("%s.method: required", field))
	}
	maxPayload := entry.GetMaxPayloadSize()
	if maxPayload <= 0 {
		errs = append(errs, fmt.Errorf("%s.maxPayloadSize: %d is not positive", field, maxPayload))
	}
	if (entry.ServerCertSecret == nil) != (entry.ServerKeySecret == nil) {
		errs = append(errs, fmt.Errorf("%s: serverCertSecret and serverKeySecret go together", field))
	}
	r := &routeSpec{
		eventName:  name,
		endpoint:   entry.Endpoint,
		method:     strings.ToUpper(entry.Method),
		maxPayload: maxPayload,
		auth:       entry.AuthSecret,
	}
	if !strings.HasPrefix(r.endpoint, "/") {
		r.endpoint = "/" + r.endpoint
	}
	if ba := entry.BasicAuth; ba != nil {
		if entry.AuthSecret != nil {
			errs = append(errs, fmt.Errorf("%s: authSecret and basicAuth are mutually exclusive", field))
		}
		if ba.Username == nil || ba.Password == nil {
			errs = append(errs, fmt.Errorf("%s.basicAuth: username and password are both required", field))
		}
		r.basicUser, r.basicPass = ba.Username, ba.Password
	}
	if len(entry.Metadata) > 0 {
		b, err := json.Marshal(entry.Metadata)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.metadata: %w", field, err))
		}
		r.metadata = b
	}
	if entry.Filter != nil && strings.TrimSpace(entry.Filter.Expression) != "" {
		f, err := sources.CompileFilter(entry.Filter.Expression)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.filter.expression: %w", field, err))
		}
		r.filter = f
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

func (p *portSpec) setTLS(name string, cert, key *corev1.SecretKeySelector) error {
	if cert == nil || key == nil {
		if p.cert != nil {
			return fmt.Errorf("spec.webhook.%s: port %s serves TLS for %s, so this entry needs the same serverCertSecret and serverKeySecret", name, p.port, p.tlsOwner)
		}
		return nil
	}
	if p.cert == nil {
		if len(p.routes) > 0 {
			return fmt.Errorf("spec.webhook.%s: port %s also serves plain HTTP entries; TLS must be set on all of them", name, p.port)
		}
		p.cert, p.key, p.tlsOwner = cert, key, name
		return nil
	}
	if !sameRef(p.cert, cert) || !sameRef(p.key, key) {
		return fmt.Errorf("spec.webhook.%s: port %s already serves TLS with the secrets of %s", name, p.port, p.tlsOwner)
	}
	return nil
}

// canonicalPort spells a valid port number without leading zeros, so that
// "08080" and "8080" share one server.
func canonicalPort(port string) string {
	if n, err := strconv.Atoi(port); err == nil {
		return strconv.Itoa(n)
	}
	return port
}

func sameRef(a, b *corev1.SecretKeySelector) bool {
	return a.Name == b.Name && a.Key == b.Key
}

// Ready is closed once Run has bound every port.
func (s *Source) Ready() <-chan struct{} { return s.ready }

// Addr returns the address bound for a port as the EventSource names it
// (e.g. "12000"; "0" binds a random port), or nil before Ready.
func (s *Source) Addr(port string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrs[canonicalPort(port)]
}

// Run resolves the secrets, binds every port and serves until ctx ends; then it
// stops accepting, lets in-flight requests finish (bounded by the shutdown
// timeout) and returns nil. A Source runs once.
func (s *Source) Run(ctx context.Context, emit sources.Emitter) error {
	if emit == nil {
		return errors.New("webhook: emitter is nil")
	}
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("webhook: source already started")
	}
	servers := make([]*http.Server, 0, len(s.ports))
	listeners := make([]net.Listener, 0, len(s.ports))
	closeAll := func() {
		for _, ln := range listeners {
			_ = ln.Close()
		}
	}
	base := context.WithoutCancel(ctx)
	for _, p := range s.ports {
		h, tlsConfig, err := s.handler(ctx, p, emit)
		if err != nil {
			closeAll()
			return fmt.Errorf("webhook: eventsource %s port %s: %w", s.eventSource, p.port, err)
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(s.opts.host, p.port))
		if err != nil {
			closeAll()
			return fmt.Errorf("webhook: listening on port %s: %w", p.port, err)
		}
		listeners = append(listeners, ln)
		servers = append(servers, &http.Server{
			Handler:           h,
			TLSConfig:         tlsConfig,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
			BaseContext:       func(net.Listener) context.Context { return base },
			ErrorLog:          zap.NewStdLog(s.log.Desugar()),
		})
		s.mu.Lock()
		s.addrs[p.port] = ln.Addr()
		s.mu.Unlock()
		s.log.Infow("webhook port listening", "eventSource", s.eventSource, "port", p.port, "addr", ln.Addr().String(), "tls", tlsConfig != nil)
	}
	close(s.ready)

	errc := make(chan error, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if srv.TLSConfig != nil {
				err = srv.ServeTLS(listeners[i], "", "")
			} else {
				err = srv.Serve(listeners[i])
			}
			if !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("webhook: serving port %s: %w", s.ports[i].port, err)
			}
		}()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.shutdown(servers)
	wg.Wait()
	return runErr
}

// shutdown stops every server gracefully, closing those that outlive the timeout.
func (s *Source) shutdown(servers []*http.Server) {
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.shutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Shutdown(sctx); err != nil {
				s.log.Warnw("webhook server did not drain in time; closing", "eventSource", s.eventSource, "error", err)
				_ = srv.Close()
			}
		}()
	}
	wg.Wait()
}
