// Package ingress is the broker's HTTP front door: it accepts CloudEvents posted to
// /<namespace>/<broker> in binary or structured mode and answers 202 only once JetStream
// has stored the event, 503 when it surely did not, and 504 when JetStream did not
// answer in time and the event may be stored.
package ingress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"go.uber.org/zap"

	"github.com/flintevents/flint/broker/internal/wire"
)

// Defaults of Config.
const (
	DefaultMaxEventSize   = 1 << 20
	DefaultPublishTimeout = 5 * time.Second
	DefaultStoreTimeout   = 20 * time.Second
)

// Publisher stores an event on a subject and returns once it is durably stored.
type Publisher interface {
	Publish(ctx context.Context, subject string, ev *cloudevents.Event) error
}

// Config tunes the ingress.
type Config struct {
	// MaxEventSize is the largest accepted request body in bytes; default 1 MiB.
	MaxEventSize int64
	// PublishTimeout bounds the wait for one acknowledgement from JetStream; default 5 s.
	PublishTimeout time.Duration
	// StoreTimeout bounds the whole store of one event, unanswered publishes sent
	// again included; past it the answer is 504 (ErrUnconfirmed); default 20 s, below
	// a source's 30 s per attempt, so that a source hears the 504 and resends.
	StoreTimeout time.Duration
	// DefaultTTL is the knativebrokerttl given to events that carry none; default 255.
	DefaultTTL int32
	// MaxStoredSize is the largest event in its stored form, attributes included, in
	// bytes; default MaxEventSize plus 64 KiB. Larger events are refused with 413.
	MaxStoredSize int64
}

// Handler implements the Knative broker ingress contract.
type Handler struct {
	registry *Registry
	pub      Publisher
	cfg      Config
	logger   *zap.Logger
	bufs     sync.Pool
}

// New returns a Handler accepting events for the brokers in registry and storing them through pub.
func New(registry *Registry, pub Publisher, cfg Config, logger *zap.Logger) *Handler {
	if cfg.MaxEventSize <= 0 {
		cfg.MaxEventSize = DefaultMaxEventSize
	}
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = DefaultPublishTimeout
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = max(DefaultStoreTimeout, cfg.PublishTimeout)
	}
	if cfg.MaxStoredSize <= 0 {
		cfg.MaxStoredSize = cfg.MaxEventSize + storedHeadroom
	}
	if cfg.DefaultTTL <= 0 {
		cfg.DefaultTTL = wire.DefaultTTL
	}
	return &Handler{
		registry: registry,
		pub:      pub,
		cfg:      cfg,
		logger:   logger,
		bufs:     sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "POST, OPTIONS")
	switch r.Method {
	case http.MethodOptions:
		w.Header().Set("WebHook-Allowed-Origin", "*")
		w.Header().Set("WebHook-Allowed-Rate", "*")
		w.WriteHeader(http.StatusOK)
		return
	case http.MethodPost:
	default:
		h.fail(w, r, ErrMethodNotAllowed)
		return
	}
	if err := h.accept(r); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// accept validates, stamps and stores the event of one POST.
func (h *Handler) accept(r *http.Request) error {
	ns, name, err := parsePath(r.URL.Path)
	if err != nil {
		return err
	}
	target, ok := h.registry.Lookup(ns, name)
	if !ok {
		return fmt.Errorf("looking up %s/%s: %w", ns, name, ErrNotFound)
	}
	if r.ContentLength > h.cfg.MaxEventSize {
		return fmt.Errorf("reading body of %d bytes, limit %d: %w", r.ContentLength, h.cfg.MaxEventSize, ErrTooLarge)
	}
	buf := h.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer h.bufs.Put(buf)
	if _, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, h.cfg.MaxEventSize)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Errorf("reading body, limit %d bytes: %w", h.cfg.MaxEventSize, ErrTooLarge)
		}
		return fmt.Errorf("reading body: %w: %w", ErrInvalidEvent, err)
	}
	ev, err := parseEvent(r.Context(), r.Header, buf.Bytes())
	if err != nil {
		return err
	}
	if err := checkAttributes(ev); err != nil {
		return err
	}
	if err := checkDataDepth(ev); err != nil {
		return err
	}
	ttl, alive := wire.NextHop(ev, h.cfg.DefaultTTL)
	if !alive {
		return fmt.Errorf("accepting event %s: %w", ev.ID(), ErrTTLExpired)
	}
	wire.SetTTL(ev, ttl)
	if err := h.checkStoredSize(ev); err != nil {
		return err
	}
	// Once the body is read the store is finished even if the client hangs up (a
	// half-closed connection ends the request's context): an event JetStream took must be
	// answered as stored, or its retry becomes a duplicate with a new id.
	return h.store(context.WithoutCancel(r.Context()), target.Subject, ev)
}

// parseEvent decodes a binary or structured mode CloudEvent and checks its required attributes.
func parseEvent(ctx context.Context, header http.Header, body []byte) (*cloudevents.Event, error) {
	msg := cehttp.NewMessage(header, io.NopCloser(bytes.NewReader(body)))
	switch msg.ReadEncoding() {
	case binding.EncodingUnknown:
		if v := header.Get("Ce-Specversion"); v != "" {
			return nil, checkSpecVersion(v)
		}
		return nil, fmt.Errorf("%w: no ce-specversion header and not a structured CloudEvent content type", ErrInvalidEvent)
	case binding.EncodingStructured:
		if !utf8.Valid(body) {
			return nil, fmt.Errorf("%w: structured event is not valid UTF-8", ErrInvalidEvent)
		}
	}
	ev, err := binding.ToEvent(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	if err := ev.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	return ev, nil
}

// parsePath splits /<namespace>/<broker>, tolerating one trailing slash.
func parsePath(path string) (string, string, error) {
	path = strings.TrimSuffix(path, "/")
	if path == "" {
		return "", "", fmt.Errorf("parsing path %q: %w", "/", ErrNotFound)
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", fmt.Errorf("parsing path %q: %w", path, ErrMalformedPath)
	}
	return parts[0], parts[1], nil
}

// fail writes the status of err with its reason as a plain-text body.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := statusFor(err)
	if code == http.StatusServiceUnavailable {
		// Stored events are never dropped to make room: a full store frees space as
		// triggers deliver, and an unavailable one comes back.
		w.Header().Set("Retry-After", "1")
	}
	if code >= http.StatusInternalServerError {
		h.logger.Warn("rejecting event", zap.String("path", r.URL.Path), zap.Int("status", code), zap.Error(err))
	} else {
		h.logger.Debug("rejecting event", zap.String("path", r.URL.Path), zap.Int("status", code), zap.Error(err))
	}
	http.Error(w, err.Error(), code)
}
