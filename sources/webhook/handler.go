package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"

	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/sources"
)

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

// reply writes a short plain-text answer.
func reply(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}
