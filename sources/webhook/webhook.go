// Package webhook is the `webhook` event source type: every named entry of an
// EventSource's spec.webhook is an HTTP endpoint whose requests become events.
package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/uuid"
	"github.com/tidwall/gjson"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
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

// handler resolves the secrets of one port and builds its HTTP handler.
func (s *Source) handler(ctx context.Context, p *portSpec, emit sources.Emitter) (http.Handler, *tls.Config, error) {
	h := &portHandler{src: s, emit: emit, routes: make(map[string]*route, len(p.routes))}
	for endpoint, spec := range p.routes {
		r := &route{
			routeSpec: spec,
			log:       s.log.With("eventSource", s.eventSource, "eventName", spec.eventName),
		}
		if spec.auth != nil {
			token, err := s.resolve(ctx, spec.auth, spec.eventName, "authSecret")
			if err != nil {
				return nil, nil, err
			}
			r.token = digest(token)
		}
		if spec.basicUser != nil {
			user, err := s.resolve(ctx, spec.basicUser, spec.eventName, "basicAuth.username")
			if err != nil {
				return nil, nil, err
			}
			pass, err := s.resolve(ctx, spec.basicPass, spec.eventName, "basicAuth.password")
			if err != nil {
				return nil, nil, err
			}
			r.user, r.pass = digest(user), digest(pass)
		}
		h.routes[endpoint] = r
	}
	if p.cert == nil {
		return h, nil, nil
	}
	certPEM, err := s.resolve(ctx, p.cert, p.tlsOwner, "serverCertSecret")
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := s.resolve(ctx, p.key, p.tlsOwner, "serverKeySecret")
	if err != nil {
		return nil, nil, err
	}
	cert, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		return nil, nil, fmt.Errorf("spec.webhook.%s: loading TLS key pair: %w", p.tlsOwner, err)
	}
	return h, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func (s *Source) resolve(ctx context.Context, ref *corev1.SecretKeySelector, eventName, field string) (string, error) {
	v, err := s.secrets.Resolve(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("spec.webhook.%s.%s: resolving secret: %w", eventName, field, err)
	}
	if v == "" {
		return "", fmt.Errorf("spec.webhook.%s.%s: secret %s key %s is empty", eventName, field, ref.Name, ref.Key)
	}
	return v, nil
}

func digest(s string) []byte {
	d := sha256.Sum256([]byte(s))
	return d[:]
}

// route is a routeSpec with its secrets resolved.
type route struct {
	*routeSpec
	log   *zap.SugaredLogger
	token []byte // sha256 of the bearer token
	user  []byte // sha256 of the basic auth user name
	pass  []byte // sha256 of the basic auth password
}

// authorized checks the Authorization header in constant time.
func (r *route) authorized(req *http.Request) bool {
	switch {
	case r.token != nil:
		h := req.Header.Get("Authorization")
		const prefix = "Bearer "
		if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
			return false
		}
		return subtle.ConstantTimeCompare(digest(h[len(prefix):]), r.token) == 1
	case r.user != nil:
		user, pass, ok := req.BasicAuth()
		if !ok {
			return false
		}
		u := subtle.ConstantTimeCompare(digest(user), r.user)
		p := subtle.ConstantTimeCompare(digest(pass), r.pass)
		return u&p == 1
	default:
		return true
	}
}

// portHandler routes the requests of one port.
type portHandler struct {
	src    *Source
	emit   sources.Emitter
	routes map[string]*route
}

// ServeHTTP implements http.Handler.
func (h *portHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r, ok := h.routes[req.URL.Path]
	if !ok {
		if req.URL.Path == "/health" {
			reply(w, http.StatusOK, "OK")
			return
		}
		reply(w, http.StatusNotFound, "not found")
		return
	}
	if !r.authorized(req) {
		if r.token != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="webhook"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Basic realm="webhook"`)
		}
		reply(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	if req.Method != r.method {
		w.Header().Set("Allow", r.method)
		reply(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if req.ContentLength > r.maxPayload {
		reply(w, http.StatusRequestEntityTooLarge, "request too large")
		return
	}
	if _, ok := req.Header["Authorization"]; ok {
		req.Header["Authorization"] = []string{maskedAuthorization}
	}
	header, err := json.Marshal(req.Header)
	if err != nil {
		reply(w, http.StatusBadRequest, "invalid headers")
		return
	}
	data, status, err := eventData(w, req, r.maxPayload, header, r.metadata)
	if err != nil {
		r.log.Debugw("request rejected", "status", status, "error", err)
		reply(w, status, err.Error())
		return
	}

	if r.filter != nil {
		pass, err := r.filter.Match(data)
		if !pass {
			reason := "expression is false"
			if err != nil {
				reason = err.Error()
			}
			r.log.Debugw("event dropped by filter", "filter", r.filter.String(), "reason", reason)
			reply(w, http.StatusOK, "success")
			return
		}
	}

	h.dispatch(w, req, r, data)
}

// dispatch emits the event and answers 200 only once the broker has stored it.
func (h *portHandler) dispatch(w http.ResponseWriter, req *http.Request, r *route, data []byte) {
	u := uuid.New()
	id := hex.EncodeToString(u[:])
	ev, err := event.New(id, h.src.eventSource, r.eventName, Type, h.src.opts.now().UTC(), data)
	if err != nil {
		r.log.Errorw("building event failed", "eventID", id, "error", err)
		reply(w, http.StatusInternalServerError, "failed to build event")
		return
	}
	for k, v := range h.src.opts.extensions {
		ev.SetExtension(k, v)
	}
	if err := h.emit(req.Context(), ev); err != nil {
		r.log.Errorw("event not recorded", "eventID", id, "error", err)
		reply(w, http.StatusServiceUnavailable, "failed to record event")
		return
	}
	r.log.Infow("event recorded", "eventID", id)
	reply(w, http.StatusOK, "success")
}

// eventData builds the webhook event data {"header", "body", "metadata"},
// reading the request body straight into it; on failure it returns the HTTP
// status to answer.
func eventData(w http.ResponseWriter, req *http.Request, limit int64, header, metadata []byte) ([]byte, int, error) {
	size := max(req.ContentLength, 0)
	data := make([]byte, 0, int(size)+len(header)+len(metadata)+64)
	data = append(data, `{"header":`...)
	data = append(data, header...)
	data = append(data, `,"body":`...)
	bodyAt := len(data)
	if req.Method == http.MethodGet {
		q, err := json.Marshal(req.URL.Query())
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("invalid query: %w", err)
		}
		data = append(data, q...)
	} else {
		var err error
		data, err = readAppend(data, http.MaxBytesReader(w, req.Body, limit))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, http.StatusRequestEntityTooLarge, errors.New("request too large")
			}
			return nil, http.StatusBadRequest, fmt.Errorf("reading body: %w", err)
		}
		raw := data[bodyAt:]
		switch {
		case len(raw) == 0:
			data = append(data, "null"...)
		case gjson.ValidBytes(raw):
			data = data[:bodyAt+compactInPlace(raw)]
		default:
			enc, err := nonJSONBody(req, raw)
			if err != nil {
				return nil, http.StatusBadRequest, err
			}
			data = append(data[:bodyAt], enc...)
		}
	}
	if metadata != nil {
		data = append(data, `,"metadata":`...)
		data = append(data, metadata...)
	}
	return append(data, '}'), 0, nil
}

// nonJSONBody encodes a body that is not JSON: the parsed form as a map of
// lists for a form content type, else the text as a JSON string.
func nonJSONBody(req *http.Request, raw []byte) ([]byte, error) {
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, fmt.Errorf("invalid form body: %w", err)
		}
		return json.Marshal(form)
	}
	return json.Marshal(string(raw))
}

// readAppend appends everything r yields to dst.
func readAppend(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// compactInPlace removes the insignificant whitespace of the valid JSON in b
// and returns the new length. Strings are skipped whole, quote to quote.
func compactInPlace(b []byte) int {
	w, i := 0, 0
	for i < len(b) {
		switch c := b[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '"':
			end := stringEnd(b, i+1)
			if w != i {
				copy(b[w:], b[i:end])
			}
			w += end - i
			i = end
		default:
			b[w] = c
			w++
			i++
		}
	}
	return w
}

// stringEnd returns the index just past the closing quote of the JSON string
// whose contents start at i.
func stringEnd(b []byte, i int) int {
	for {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return len(b)
		}
		j := i + q
		k := j
		for k > i && b[k-1] == '\\' {
			k--
		}
		if (j-k)%2 == 0 {
			return j + 1
		}
		i = j + 1
	}
}

// reply writes a short plain-text answer.
func reply(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}
