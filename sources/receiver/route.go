package receiver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	corev1 "k8s.io/api/core/v1"

	"github.com/flintevents/flint/pkg/secret"
)

// Route is one registered route. Its source attaches the handler that turns
// requests into events; the handler sees only requests that passed the
// route's auth, method and Content-Length checks, with the body limited to
// the route's MaxBodyBytes and the Authorization header masked.
//
// A handler must answer only after the event it emits was stored (or refused),
// so that no accepted request is lost.
type Route struct {
	spec RouteSpec
	log  *zap.SugaredLogger

	// mu is held for reading while a request is served and for writing while
	// the handler changes, so detaching waits for in-flight requests.
	mu      sync.RWMutex
	handler http.Handler

	attached     func() // tells the receiver, once, that a handler is attached
	attachedOnce sync.Once

	// Set by Run before the port is bound, read-only afterwards.
	token []byte // sha256 of the bearer token
	user  []byte // sha256 of the basic auth user name
	pass  []byte // sha256 of the basic auth password
}

// Spec returns the route as registered (endpoint with its leading "/",
// method upper-case, body limit filled in).
func (rt *Route) Spec() RouteSpec { return rt.spec }

// Attach makes h serve the route. The returned detach function makes the route
// answer 503 again, after the requests h is serving have finished. A route has
// one handler at a time.
func (rt *Route) Attach(h http.Handler) (detach func(), err error) {
	if h == nil {
		return nil, errors.New("attaching a nil handler")
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.handler != nil {
		return nil, fmt.Errorf("%s: a handler is already attached", rt.spec.owner())
	}
	rt.handler = h
	if rt.attached != nil {
		rt.attachedOnce.Do(rt.attached)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			rt.mu.Lock()
			rt.handler = nil
			rt.mu.Unlock()
		})
	}, nil
}

func (rt *Route) serve(w http.ResponseWriter, req *http.Request) {
	rt.mu.RLock()
	defer rt.mu.RUnlock()
	if rt.handler == nil {
		Reply(w, http.StatusServiceUnavailable, "endpoint is inactive")
		return
	}
	rt.handler.ServeHTTP(w, req)
}

// authorized checks the Authorization header in constant time.
func (rt *Route) authorized(req *http.Request) bool {
	switch {
	case rt.token != nil:
		h := req.Header.Get("Authorization")
		const prefix = "Bearer "
		if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
			return false
		}
		return subtle.ConstantTimeCompare(digest(h[len(prefix):]), rt.token) == 1
	case rt.user != nil:
		user, pass, ok := req.BasicAuth()
		if !ok {
			return false
		}
		u := subtle.ConstantTimeCompare(digest(user), rt.user)
		p := subtle.ConstantTimeCompare(digest(pass), rt.pass)
		return u&p == 1
	default:
		return true
	}
}

func digest(s string) []byte {
	d := sha256.Sum256([]byte(s))
	return d[:]
}

// port is the routes of one port number.
type port struct {
	number string
	routes map[string]*Route // by endpoint
	tls    *TLS
	tlsBy  string // owner of the route that set tls
}

// checkTLS reports whether spec agrees with the TLS of the port's routes.
func (p *port) checkTLS(spec RouteSpec) *apis.FieldError {
	switch {
	case spec.TLS == nil && p.tls != nil:
		return apis.ErrGeneric(fmt.Sprintf("port %s serves TLS for %s, so this route needs the same serverCertSecret and serverKeySecret",
			p.number, p.tlsBy), "serverCertSecret")
	case spec.TLS == nil:
		return nil
	case p.tls == nil && len(p.routes) > 0:
		return apis.ErrGeneric(fmt.Sprintf("port %s also serves plain HTTP routes; TLS must be set on all of them", p.number), "serverCertSecret")
	case p.tls == nil:
		p.tls, p.tlsBy = spec.TLS, spec.owner()
		return nil
	case !sameRef(p.tls.Cert, spec.TLS.Cert) || !sameRef(p.tls.Key, spec.TLS.Key):
		return apis.ErrGeneric(fmt.Sprintf("port %s already serves TLS with the secrets of %s", p.number, p.tlsBy), "serverCertSecret")
	}
	return nil
}

func sameRef(a, b *corev1.SecretKeySelector) bool {
	return a.Name == b.Name && a.Key == b.Key
}

// prepare resolves the secrets of the port's routes and its TLS config.
func (p *port) prepare(ctx context.Context, secrets secret.Resolver) (*tls.Config, error) {
	for _, rt := range p.routes {
		a := rt.spec.Auth
		if a.Token != nil {
			token, err := resolve(ctx, secrets, a.Token, rt.spec, "authSecret")
			if err != nil {
				return nil, err
			}
			rt.token = digest(token)
		}
		if a.Basic != nil {
			user, err := resolve(ctx, secrets, a.Basic.Username, rt.spec, "basicAuth.username")
			if err != nil {
				return nil, err
			}
			pass, err := resolve(ctx, secrets, a.Basic.Password, rt.spec, "basicAuth.password")
			if err != nil {
				return nil, err
			}
			rt.user, rt.pass = digest(user), digest(pass)
		}
	}
	if p.tls == nil {
		return nil, nil
	}
	var owner RouteSpec
	for _, rt := range p.routes {
		if rt.spec.owner() == p.tlsBy {
			owner = rt.spec
		}
	}
	certPEM, err := resolve(ctx, secrets, p.tls.Cert, owner, "serverCertSecret")
	if err != nil {
		return nil, err
	}
	keyPEM, err := resolve(ctx, secrets, p.tls.Key, owner, "serverKeySecret")
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		return nil, fmt.Errorf("%s: loading TLS key pair: %w", owner.owner(), err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// resolve reads the secret the route's field refers to; the error names
// the event source and the field.
func resolve(ctx context.Context, secrets secret.Resolver, ref *corev1.SecretKeySelector, spec RouteSpec, field string) (string, error) {
	v, err := secret.Value(ctx, secrets, ref, spec.Field+"."+field)
	if err != nil && spec.EventSource != "" {
		return "", fmt.Errorf("eventsource %s: %w", spec.EventSource, err)
	}
	return v, err
}

// ServeHTTP routes one request of the port: `/health`, 404 for an unknown
// path, then the route's auth (401), method (405) and size (413) checks. An
// HTTP/1 body that arrives slower than MinBodyRate after BodyGrace, or whose
// connection gave up its slot to a new client, is cut and answered 408.
func (p *port) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rt, ok := p.routes[req.URL.Path]
	if !ok {
		if req.URL.Path == "/health" {
			Reply(w, http.StatusOK, "OK")
			return
		}
		Reply(w, http.StatusNotFound, "not found")
		return
	}
	if !rt.authorized(req) {
		if rt.token != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="webhook"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Basic realm="webhook"`)
		}
		Reply(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	if rt.spec.Method != "" && req.Method != rt.spec.Method {
		w.Header().Set("Allow", rt.spec.Method)
		Reply(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if req.ContentLength > rt.spec.MaxBodyBytes {
		Reply(w, http.StatusRequestEntityTooLarge, "request too large")
		return
	}
	if _, ok := req.Header["Authorization"]; ok {
		req.Header["Authorization"] = []string{MaskedAuthorization}
	}
	// MaxBytesReader tells the server's own writer to close the connection
	// after an oversized body.
	req.Body = http.MaxBytesReader(w, req.Body, rt.spec.MaxBodyBytes)
	switch c := connOf(req.Context()); {
	case c == nil:
	case req.ProtoMajor == 1:
		// The slot's phase follows the request: working, reading while the
		// handler reads the body, waiting again once it answered.
		c.to(working)
		defer c.to(waiting)
		g := &guard{ResponseWriter: w}
		w = g
		req.Body = newBodyRate(req.Body, c, g, ReadTimeout)
	default:
		// An HTTP/2 connection multiplexes requests whose bodies share it:
		// it keeps its slot, and the server's ReadTimeout bounds its bodies.
		c.to(working)
	}
	rt.serve(w, req)
}

// Reply writes a short plain-text answer.
func Reply(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

// ReadBody reads the whole (limited) request body; a body over the route's
// limit yields ErrTooLarge.
func ReadBody(req *http.Request) ([]byte, error) {
	b, err := io.ReadAll(req.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, fmt.Errorf("%w: %w", ErrTooLarge, err)
		}
		return nil, fmt.Errorf("reading body: %w", err)
	}
	return b, nil
}

// ErrTooLarge is returned by ReadBody when the body exceeds the route's limit.
var ErrTooLarge = errors.New("request too large")
