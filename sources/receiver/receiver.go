// Package receiver is the HTTP server every push event source shares: one
// server per port, serving the routes (port, endpoint) of any number of
// entries, types and EventSources, with TLS per port, bearer or basic auth per
// route, `/health` on every port, a body limit and a method per route, and a
// bounded graceful drain on stop.
//
// Routes are registered while sources are built, so that conflicts surface
// before anything binds; a route's handler is attached when its source runs,
// and until then the route answers 503.
package receiver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/secret"
)

// Defaults of a Receiver.
const (
	// DefaultShutdownTimeout bounds how long Run waits for in-flight requests
	// once its context ends.
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultMaxBodyBytes is the body limit of a route that sets none (1 MiB).
	DefaultMaxBodyBytes = v1alpha1.DefaultMaxWebhookPayloadSize
	// ReadHeaderTimeout bounds how long a client may take to send its headers.
	ReadHeaderTimeout = 10 * time.Second
	// IdleTimeout closes keep-alive connections left idle this long.
	IdleTimeout = 120 * time.Second
	// ReadTimeout bounds how long a client may take to send a whole request,
	// so that slow bodies cannot hold connections for ever.
	ReadTimeout = time.Minute
	// WriteTimeout bounds a whole exchange: reading the request, storing the
	// event and answering.
	WriteTimeout = 2 * time.Minute
	// DefaultMaxConns is how many connections one port serves at once; when
	// all are taken, a new one takes the slot of a connection without a
	// request or of the slowest body reader (see EvictAfter), else it waits.
	DefaultMaxConns = 1024
)

// MaskedAuthorization replaces the Authorization header of every request a
// handler sees, so that credentials never reach event data.
const MaskedAuthorization = "*** Masked Auth Secret ***"

// Options configure a Receiver.
type Options struct {
	// Host is the interface every port binds; empty means all interfaces.
	Host string
	// Secrets resolves the TLS and auth secrets of routes; needed only when a
	// route names one.
	Secrets secret.Resolver
	// Logger logs binds, drains and rejected requests; nil means no logging.
	Logger *zap.Logger
	// ShutdownTimeout bounds the drain on stop; DefaultShutdownTimeout when zero.
	ShutdownTimeout time.Duration
	// MaxConns caps the connections each port serves at once; DefaultMaxConns when zero.
	// A new connection over the cap takes the slot of one doing the least (no
	// request, or the slowest body), so slow clients cannot keep new ones out.
	MaxConns int
	// Port, when set, is the one port every route is served on, whatever
	// port it names: a Knative Service routes one container port, so a
	// source image serves all its entries on $PORT. Routes then share it,
	// and two routes of one endpoint conflict.
	Port string
}

// Receiver serves the routes registered on it. Route is called while sources
// are built, Run once afterwards; Route after Run has started fails.
type Receiver struct {
	opts  Options
	log   *zap.SugaredLogger
	ready chan struct{}

	mu      sync.Mutex // guards ports, started, addrs, bound
	ports   map[string]*port
	started bool
	addrs   map[string]net.Addr
	bound   []Port

	unstarted unstarted // connections without a request, closed at once on stop

	// Ready waits for the ports to be bound and for every route to have a
	// handler, so that "ready" never answers 503 "endpoint is inactive".
	listening  bool // guarded by mu
	unattached int  // routes without a handler yet; guarded by mu
	readyOnce  sync.Once
}

// New returns a Receiver with no routes.
func New(opts Options) *Receiver {
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	lg := opts.Logger
	if lg == nil {
		lg = zap.NewNop()
	}
	return &Receiver{
		opts:  opts,
		log:   lg.Sugar(),
		ready: make(chan struct{}),
		ports: map[string]*port{},
		addrs: map[string]net.Addr{},
	}
}

// Auth is the credential check of a route: a bearer token or basic auth, or
// nothing when both are nil.
type Auth struct {
	// Token refers to the secret holding the expected bearer token (`authSecret`).
	Token *corev1.SecretKeySelector
	// Basic refers to the secrets holding the expected user name and password (`basicAuth`).
	Basic *v1alpha1.BasicAuth
}

// TLS refers to the secrets holding a port's certificate and key in PEM.
type TLS struct {
	Cert, Key *corev1.SecretKeySelector
}

// RouteSpec is one route to serve.
type RouteSpec struct {
	// EventSource and Field name the route's owner in messages, e.g.
	// "webhook-es" and "spec.webhook[example]".
	EventSource, Field string
	// Port is the port number to serve on; "0" binds a random port.
	Port string
	// Endpoint is the exact URL path; a missing leading "/" is added.
	Endpoint string
	// Method is the accepted HTTP method (any case); empty accepts every method.
	Method string
	// MaxBodyBytes limits the request body; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// Auth is the route's credential check.
	Auth Auth
	// TLS, when set, makes the port serve HTTPS; every route of a port must agree.
	TLS *TLS
}

// FromWebhookContext is the route an Argo webhook context describes, the
// `webhook` block of every push type: endpoint, port, method, body limit,
// `authSecret`, `basicAuth` and the TLS secrets.
func FromWebhookContext(eventSource, field string, w *v1alpha1.WebhookContext) RouteSpec {
	spec := RouteSpec{
		EventSource:  eventSource,
		Field:        field,
		Port:         w.Port,
		Endpoint:     w.Endpoint,
		Method:       w.Method,
		MaxBodyBytes: w.GetMaxPayloadSize(),
		Auth:         Auth{Token: w.AuthSecret, Basic: w.BasicAuth},
	}
	if w.ServerCertSecret != nil || w.ServerKeySecret != nil {
		spec.TLS = &TLS{Cert: w.ServerCertSecret, Key: w.ServerKeySecret}
	}
	return spec
}

func (s RouteSpec) owner() string {
	if s.EventSource == "" {
		return s.Field
	}
	return s.Field + " of EventSource " + s.EventSource
}

// Health makes the receiver serve port even when no route uses it, answering
// only `/health`: a pull source's image listens on Knative's $PORT this way,
// so the revision's readiness probe passes. A port routes already use is
// left as is.
func (r *Receiver) Health(number string) *apis.FieldError {
	n, err := strconv.Atoi(number)
	if err != nil || n < 0 || n > 65535 {
		return apis.ErrInvalidValue(number, "port", "must be a port number")
	}
	number = strconv.Itoa(n)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return apis.ErrGeneric("the receiver is already running; ports are registered before Run")
	}
	if r.ports[number] == nil {
		r.ports[number] = &port{number: number, routes: map[string]*Route{}}
	}
	return nil
}

// Route registers spec. Problems are field errors relative to the route's
// webhook context (`port`, `endpoint`, `serverCertSecret`…); the caller adds
// its own path, e.g. ViaFieldKey("webhook", name).ViaField("spec").
func (r *Receiver) Route(spec RouteSpec) (*Route, *apis.FieldError) {
	var errs *apis.FieldError
	n, err := strconv.Atoi(spec.Port)
	if err != nil || n < 0 || n > 65535 {
		errs = errs.Also(apis.ErrInvalidValue(spec.Port, "port", "must be a port number"))
	}
	if spec.Endpoint == "" {
		errs = errs.Also(apis.ErrMissingField("endpoint"))
	} else if !strings.HasPrefix(spec.Endpoint, "/") {
		spec.Endpoint = "/" + spec.Endpoint
	}
	spec.Method = strings.ToUpper(spec.Method)
	if spec.MaxBodyBytes == 0 {
		spec.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if spec.MaxBodyBytes < 0 {
		errs = errs.Also(apis.ErrInvalidValue(spec.MaxBodyBytes, "maxPayloadSize", "must be positive"))
	}
	if t := spec.TLS; t != nil && (t.Cert == nil || t.Key == nil) {
		errs = errs.Also(apis.ErrGeneric("serverCertSecret and serverKeySecret go together", "serverCertSecret", "serverKeySecret"))
	}
	if spec.Auth.Token != nil && spec.Auth.Basic != nil {
		errs = errs.Also(apis.ErrGeneric("authSecret and basicAuth are mutually exclusive", "authSecret", "basicAuth"))
	}
	if b := spec.Auth.Basic; b != nil && (b.Username == nil || b.Password == nil) {
		errs = errs.Also(apis.ErrGeneric("username and password are both required", "basicAuth"))
	}
	if r.opts.Port != "" {
		spec.Port = r.opts.Port
		n, err = strconv.Atoi(spec.Port)
		if err != nil || n < 0 || n > 65535 {
			errs = errs.Also(apis.ErrGeneric(fmt.Sprintf("the receiver's port %q is not a port number", r.opts.Port)))
		}
	}
	if (spec.TLS != nil || spec.Auth.Token != nil || spec.Auth.Basic != nil) && r.opts.Secrets == nil {
		errs = errs.Also(apis.ErrGeneric("names a secret but the receiver has no secret resolver"))
	}
	if errs != nil {
		return nil, errs
	}
	spec.Port = strconv.Itoa(n) // "08080" and "8080" share one server

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return nil, apis.ErrGeneric("the receiver is already running; routes are registered before Run")
	}
	p := r.ports[spec.Port]
	if p == nil {
		p = &port{number: spec.Port, routes: map[string]*Route{}}
	}
	if other, dup := p.routes[spec.Endpoint]; dup {
		return nil, apis.ErrGeneric(fmt.Sprintf("port %s endpoint %s is already served by %s", spec.Port, spec.Endpoint, other.spec.owner()), "endpoint")
	}
	if fe := p.checkTLS(spec); fe != nil {
		return nil, fe
	}
	rt := &Route{spec: spec, log: r.log.With("eventSource", spec.EventSource, "route", spec.Field), attached: r.attached}
	r.unattached++
	p.routes[spec.Endpoint] = rt
	r.ports[spec.Port] = p
	return rt, nil
}

// Ready is closed once Run has bound every port and every registered route
// has a handler attached, so a request that arrives after it is served.
func (r *Receiver) Ready() <-chan struct{} { return r.ready }

// attached counts a route's first handler; see markReady.
func (r *Receiver) attached() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unattached--
	r.markReady()
}

// markReady closes Ready once every port is bound and every route has a
// handler; r.mu is held.
func (r *Receiver) markReady() {
	if r.listening && r.unattached == 0 {
		r.readyOnce.Do(func() { close(r.ready) })
	}
}

// Addr returns the address bound for a port as routes name it (e.g. "12000";
// "0" for the random port), or nil before Ready.
func (r *Receiver) Addr(port string) net.Addr {
	if n, err := strconv.Atoi(port); err == nil {
		port = strconv.Itoa(n)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addrs[port]
}

// Port is a port the receiver listens on, with the endpoints routed there.
type Port struct {
	// Number is the port as routes name it ("0" for a random port).
	Number string
	// Addr is the bound address.
	Addr net.Addr
	// TLS tells whether the port serves HTTPS.
	TLS bool
	// Endpoints are the routed paths, sorted.
	Endpoints []string
}

// URL is the base URL of the port, e.g. http://127.0.0.1:12000.
func (p Port) URL() string {
	if p.TLS {
		return "https://" + p.Addr.String()
	}
	return "http://" + p.Addr.String()
}

// Ports lists the bound ports in port order; it is empty before Ready.
func (r *Receiver) Ports() []Port {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bound)
}

// Run resolves the routes' secrets, binds every port and serves until ctx
// ends; then it stops accepting, lets in-flight requests finish (bounded by
// the shutdown timeout, after which their connections are closed) and returns
// nil. A port it cannot bind is a *PortError. A Receiver runs once; with no
// routes it binds nothing and waits.
func (r *Receiver) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return errors.New("receiver already started")
	}
	r.started = true
	ports := make([]*port, 0, len(r.ports))
	for _, p := range r.ports {
		ports = append(ports, p)
	}
	r.mu.Unlock()
	sort.Slice(ports, func(i, j int) bool { return ports[i].number < ports[j].number })

	servers := make([]*http.Server, 0, len(ports))
	listeners := make([]net.Listener, 0, len(ports))
	closeAll := func() {
		for _, ln := range listeners {
			_ = ln.Close()
		}
	}
	// Requests outlive ctx while the servers drain; hardStop ends the work they
	// detached from their connections once the drain gives up.
	hardStop, giveUp := context.WithCancel(context.Background())
	defer giveUp()
	base := context.WithValue(context.WithoutCancel(ctx), hardStopKey{}, hardStop)
	for _, p := range ports {
		tlsConfig, err := p.prepare(ctx, r.opts.Secrets)
		if err != nil {
			closeAll()
			return err
		}
		addr := net.JoinHostPort(r.opts.Host, p.number)
		bound, err := net.Listen("tcp", addr)
		if err != nil {
			closeAll()
			pe := &PortError{Port: p.number, Addr: addr, Err: err}
			if endpoints := slices.Sorted(maps.Keys(p.routes)); len(endpoints) > 0 {
				first := p.routes[endpoints[0]].spec
				pe.EventSource, pe.Field = first.EventSource, first.Field
			}
			return pe
		}
		ln := newSlots(bound, r.opts.MaxConns, EvictAfter)
		listeners = append(listeners, ln)
		servers = append(servers, &http.Server{
			Handler:           p,
			TLSConfig:         tlsConfig,
			ReadHeaderTimeout: ReadHeaderTimeout,
			ReadTimeout:       ReadTimeout,
			WriteTimeout:      WriteTimeout,
			IdleTimeout:       IdleTimeout,
			MaxHeaderBytes:    1 << 20,
			BaseContext:       func(net.Listener) context.Context { return base },
			ErrorLog:          zap.NewStdLog(r.log.Desugar()),
			ConnState:         r.unstarted.track,
			ConnContext:       withConn,
		})
		endpoints := slices.Sorted(maps.Keys(p.routes))
		r.mu.Lock()
		r.addrs[p.number] = ln.Addr()
		r.bound = append(r.bound, Port{Number: p.number, Addr: ln.Addr(), TLS: tlsConfig != nil, Endpoints: endpoints})
		r.mu.Unlock()
		r.log.Infow("receiver port listening", "port", p.number, "addr", ln.Addr().String(), "tls", tlsConfig != nil, "routes", len(p.routes))
	}
	r.mu.Lock()
	r.listening = true
	r.markReady()
	r.mu.Unlock()

	errc := make(chan error, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Go(func() {
			var err error
			if srv.TLSConfig != nil {
				err = srv.ServeTLS(listeners[i], "", "")
			} else {
				err = srv.Serve(listeners[i])
			}
			if !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serving port %s: %w", ports[i].number, err)
			}
		})
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	r.shutdown(servers, giveUp)
	wg.Wait()
	return runErr
}

// shutdown stops every server gracefully; when the timeout ends first, it calls
// giveUp, which ends the work requests detached from their connections, and
// closes the connections.
func (r *Receiver) shutdown(servers []*http.Server, giveUp context.CancelFunc) {
	sctx, cancel := context.WithTimeout(context.Background(), r.opts.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		srv.SetKeepAlivesEnabled(false)
	}
	r.unstarted.close()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Go(func() {
			if err := srv.Shutdown(sctx); err != nil {
				r.log.Warnw("receiver did not drain in time; closing connections", "error", err)
				giveUp()
				_ = srv.Close()
			}
		})
	}
	wg.Wait()
}
