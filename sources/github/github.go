// Package github is the `github` event source type: every named entry of an
// EventSource's spec.github is a receiver route for GitHub webhook deliveries,
// checked against the `webhookSecret` signature and the `events` list. When
// `apiToken` and `webhook.url` are set, the entry also manages a hook on its
// repositories or organizations through the GitHub REST API (Hooks), which
// the host registers and removes, never the serving Source.
package github

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1" // the legacy X-Hub-Signature, accepted there as Argo Events does
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/jsonlimit"
	"github.com/flintevents/flint/pkg/registry"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/receiver"
)

// Type is the EventSource type key, and the CloudEvent type, of GitHub events.
const Type = "github"

// Headers GitHub sets on every delivery; their values are also added to the
// event body under these names, as Argo Events does.
const (
	HeaderEvent     = "X-GitHub-Event"
	HeaderDelivery  = "X-GitHub-Delivery"
	HeaderSignature = "X-Hub-Signature-256"
	// HeaderLegacySignature is checked when HeaderSignature is absent.
	HeaderLegacySignature = "X-Hub-Signature"
)

func init() {
	sources.Register(Type, sources.Push, func(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
		return New(es, deps)
	}, sources.ManagesHooks(sources.HookManager{
		Wants: WantsHooks,
		New: func(es *v1alpha1.EventSource, deps sources.Deps) (sources.Hooks, error) {
			return NewHooks(es, deps)
		},
	}))
}

// Source serves every github entry of one EventSource.
type Source struct {
	eventSource string
	entries     []*entry
	secrets     secret.Resolver
	started     atomic.Bool
}

var _ sources.Source = (*Source)(nil)

// entry is one github entry: its route and its checks.
type entry struct {
	sources.PushEntry
	spec     v1alpha1.GithubEventSource
	route    *receiver.Route
	events   map[string]bool // nil: every event
	metadata map[string]string

	secret []byte // the resolved webhookSecret, nil when none
}

// New registers the routes of es's github entries on deps.Receiver and returns
// their Source; the routes answer 503 until Run. es is expected to be
// defaulted and validated (pkg/manifest); New reports what it cannot serve.
func New(es *v1alpha1.EventSource, deps sources.Deps) (*Source, error) {
	entries, err := sources.NewPushEntries(Type, es, deps, func(p sources.PushEntry) (*entry, *apis.FieldError) {
		return newEntry(es.Name, p, es.Spec.Github[p.Name], deps)
	})
	if err != nil {
		return nil, err
	}
	return &Source{eventSource: es.Name, entries: entries, secrets: deps.Secrets}, nil
}

func newEntry(eventSource string, p sources.PushEntry, g v1alpha1.GithubEventSource, deps sources.Deps) (*entry, *apis.FieldError) {
	e := &entry{PushEntry: p, spec: g, metadata: g.Metadata}
	var errs *apis.FieldError
	if g.Webhook == nil {
		errs = errs.Also(apis.ErrMissingField("webhook"))
	}
	if g.GithubApp != nil {
		errs = errs.Also(registry.NotRunnable("GitHub App credentials (use apiToken)", "githubApp"))
	}
	if g.WebhookSecret != nil && deps.Secrets == nil {
		errs = errs.Also(apis.ErrGeneric("names a secret but no secret resolver was given", "webhookSecret"))
	}
	if len(g.Events) > 0 && !slices.Contains(g.Events, "*") {
		e.events = make(map[string]bool, len(g.Events))
		for _, ev := range g.Events {
			e.events[ev] = true
		}
	}
	errs = errs.Also(e.CompileFilter(g.Filter))
	if errs != nil {
		return nil, errs
	}
	rt, fe := deps.Receiver.Route(receiver.FromWebhookContext(eventSource, fmt.Sprintf("spec.github[%s].webhook", p.Name), g.Webhook))
	if fe != nil {
		return nil, fe.ViaField("webhook")
	}
	e.route = rt
	return e, nil
}

// Run resolves the entries' webhook secrets, attaches their handlers and
// serves until ctx ends; then it detaches the handlers (waiting for requests
// in flight) and returns nil. It neither registers nor deletes hooks (see
// Hooks): a pod that scales down leaves them to deliver to its successors. A
// Source runs once.
func (s *Source) Run(ctx context.Context, emit sources.Emitter) error {
	if emit == nil {
		return errors.New("github: emitter is nil")
	}
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("github: source already started")
	}
	for _, e := range s.entries {
		if err := e.resolve(ctx, s.eventSource, s.secrets); err != nil {
			return err
		}
	}
	detaches := make([]func(), 0, len(s.entries))
	defer func() {
		for _, d := range detaches {
			d()
		}
	}()
	for _, e := range s.entries {
		d, err := e.route.Attach(&handler{entry: e, emit: emit})
		if err != nil {
			return fmt.Errorf("github: eventsource %s: %w", s.eventSource, err)
		}
		detaches = append(detaches, d)
	}
	<-ctx.Done()
	return nil
}

func (e *entry) resolve(ctx context.Context, eventSource string, secrets secret.Resolver) error {
	v, err := resolveSecret(ctx, secrets, eventSource, e.Name, e.spec.WebhookSecret, "webhookSecret")
	if err != nil {
		return err
	}
	if e.spec.WebhookSecret != nil {
		e.secret = []byte(v)
	}
	return nil
}

// resolveSecret reads the reference at spec.github[name].field; "" when ref
// is nil. A reference that gives nothing (an empty value, or an optional
// secret that is absent) is an error: the entry fails closed.
func resolveSecret(ctx context.Context, secrets secret.Resolver, eventSource, name string, ref *corev1.SecretKeySelector, field string) (string, error) {
	if ref == nil {
		return "", nil
	}
	v, err := secret.Value(ctx, secrets, ref, fmt.Sprintf("spec.github[%s].%s", name, field))
	if err != nil {
		return "", fmt.Errorf("eventsource %s: %w", eventSource, err)
	}
	return v, nil
}

// handler turns the deliveries of one entry's route into events.
type handler struct {
	*entry
	emit sources.Emitter
}

// eventData is the Argo event data of a GitHub delivery.
type eventData struct {
	Headers  http.Header       `json:"headers"`
	Body     map[string]any    `json:"body"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// ServeHTTP implements http.Handler: verify, decode, filter, emit, and answer
// only once the broker has stored the event.
func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	raw, err := receiver.ReadBody(req)
	if err != nil {
		if errors.Is(err, receiver.ErrTooLarge) {
			receiver.Reply(w, http.StatusRequestEntityTooLarge, "request too large")
			return
		}
		receiver.Reply(w, http.StatusBadRequest, "reading body failed")
		return
	}
	if h.secret != nil {
		if err := verify(req.Header, raw, h.secret); err != nil {
			h.Log.Infow("delivery refused", "reason", err.Error(), "delivery", req.Header.Get(HeaderDelivery))
			receiver.Reply(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	id, err := deliveryID(req.Header)
	if err != nil {
		h.Log.Infow("delivery refused", "reason", err.Error())
		receiver.Reply(w, http.StatusBadRequest, err.Error())
		return
	}
	payload, err := decodePayload(req.Header.Get("Content-Type"), raw)
	if err != nil {
		h.Log.Debugw("delivery refused", "reason", err.Error())
		receiver.Reply(w, http.StatusBadRequest, err.Error())
		return
	}
	kind := req.Header.Get(HeaderEvent)
	if h.events != nil && !h.events[kind] {
		h.Metrics.Filtered()
		h.Log.Debugw("event dropped: not in events", "githubEvent", kind)
		receiver.Reply(w, http.StatusOK, "success")
		return
	}
	payload[HeaderEvent] = kind
	payload[HeaderDelivery] = req.Header.Get(HeaderDelivery)
	data, err := json.Marshal(eventData{Headers: req.Header, Body: payload, Metadata: h.metadata})
	if err != nil {
		receiver.Reply(w, http.StatusBadRequest, "encoding event data failed")
		return
	}
	h.Push(w, req, h.emit, sources.Event{Name: h.Name, Data: data, ID: id},
		"githubEvent", kind, "delivery", req.Header.Get(HeaderDelivery))
}

// maxDeliveryID bounds the X-GitHub-Delivery taken as an event id; GitHub's
// are GUIDs of 36 characters.
const maxDeliveryID = 128

// deliveryID is the event id of a delivery: its X-GitHub-Delivery, which
// GitHub keeps when it redelivers, so that the broker stores a delivery sent
// again only once; "" (the host mints one) when the header is absent. A value
// that is no plausible id (longer than maxDeliveryID, or other than letters,
// digits and '-') is refused.
func deliveryID(header http.Header) (string, error) {
	id := header.Get(HeaderDelivery)
	if len(id) > maxDeliveryID {
		return "", fmt.Errorf("invalid %s: longer than %d characters", HeaderDelivery, maxDeliveryID)
	}
	for _, c := range []byte(id) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return "", fmt.Errorf("invalid %s: want letters, digits and '-'", HeaderDelivery)
		}
	}
	return id, nil
}

// The algorithms each signature header may name: X-Hub-Signature-256 only
// SHA-256, whatever Argo Events takes there; the legacy X-Hub-Signature,
// read only when X-Hub-Signature-256 is absent, what Argo Events takes in it
// (GitHub itself sends SHA-1 there).
var (
	signatureAlgorithms       = map[string]func() hash.Hash{"sha256": sha256.New}
	legacySignatureAlgorithms = map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New}
)

// verify checks the HMAC signature of body in constant time: the SHA-256
// X-Hub-Signature-256, or, when absent, the legacy X-Hub-Signature.
func verify(header http.Header, body, key []byte) error {
	if sig := header.Values(HeaderSignature); len(sig) > 0 {
		return checkSignature(HeaderSignature, sig[0], signatureAlgorithms, body, key)
	}
	if sig := header.Values(HeaderLegacySignature); len(sig) > 0 {
		return checkSignature(HeaderLegacySignature, sig[0], legacySignatureAlgorithms, body, key)
	}
	return errors.New("missing signature")
}

// checkSignature checks sig, `<algorithm>=<hex>` from header name, against the
// HMAC of body under one of algorithms.
func checkSignature(name, sig string, algorithms map[string]func() hash.Hash, body, key []byte) error {
	algo, hexSum, ok := strings.Cut(sig, "=")
	if !ok {
		return errors.New("malformed signature")
	}
	newHash, ok := algorithms[algo]
	if !ok {
		return fmt.Errorf("unsupported signature algorithm %q in %s", algo, name)
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return errors.New("malformed signature")
	}
	mac := hmac.New(newHash, key)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errors.New("signature mismatch")
	}
	return nil
}

// decodePayload decodes a delivery: JSON as is, or the JSON of the form
// field `payload` for the form content type; the payload must be an object
// nested at most jsonlimit.DefaultMaxDepth-1 levels deep, since the event
// data holds it one level deeper and sensors take data nested at most
// jsonlimit.DefaultMaxDepth levels.
func decodePayload(contentType string, raw []byte) (map[string]any, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/json":
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, fmt.Errorf("invalid form body: %w", err)
		}
		raw = []byte(form.Get("payload"))
	default:
		return nil, fmt.Errorf("unsupported content type %q", contentType)
	}
	// A linear check first, so that a hostile nesting never reaches the
	// recursive decoder.
	if err := jsonlimit.Check(raw, jsonlimit.DefaultMaxDepth-1); errors.Is(err, jsonlimit.ErrTooDeep) {
		return nil, fmt.Errorf("invalid payload: %w; the event data holds the payload one level deeper, and sensors take data nested at most %d levels",
			err, jsonlimit.DefaultMaxDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var payload map[string]any
	if err := dec.Decode(&payload); err != nil || payload == nil {
		return nil, errors.New("payload is not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("payload is not a JSON object")
	}
	return payload, nil
}
