// Package nats is the `nats` event source type: every named entry of an
// EventSource's spec.nats subscribes to a subject of a NATS server (core
// NATS, in a queue group when `queue` is set) and emits one event per
// message, with Argo Events' event data
// (`{"subject","body","header","metadata"}`: body base64 of the payload, or
// the payload itself as JSON with `jsonBody`; header omitted when the
// message has none). Argo's `url`, `subject`, `queue`, `tls`, `auth` (basic,
// token, nkey seed, credentials file), `connectionBackoff`, `jsonBody`,
// `metadata` and `filter` are honoured.
//
// It runs on sources/pull. Core NATS keeps no message and takes no
// acknowledgement, so the source is at most once at its origin, as Argo's:
//   - a message published while no subscription is connected (before the
//     source starts, while the server restarts, after a kill) is never
//     delivered to it; every message delivered while it runs is emitted;
//   - Ack and Nack are no-ops: a message has no second delivery, so a refused
//     event is emitted again in place until the broker stores it or the source
//     stops, rather than handed back after a few attempts;
//   - a message has no natural id: the source mints a random one (32 hex
//     digits, as Argo's) when it receives the message, and every retry of
//     that event carries it, so the broker drops a copy it stored without
//     confirming;
//   - messages wait in a buffer of PendingMessages while the broker is slow;
//     past it the NATS client drops them (a slow consumer), which is logged.
//
// The client does not reconnect by itself: a lost connection ends the
// consumer, and the runner dials again as `connectionBackoff` says (with
// its steps it gives up after that many failures in a row, as Argo's
// connect does; without it, it dials again forever, 1 s doubling to 30 s).
// Argo's source stops receiving for good once its client's own reconnects
// run out.
package nats

import (
	"context"
	"crypto/tls"
	"encoding/json"

	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn"
	"github.com/flintevents/flint/pkg/jsontext"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/filter"
	"github.com/flintevents/flint/sources/pull"
)

// Type is the EventSource type key, and the CloudEvent type, of nats events.
const Type = v1alpha1.TypeNATS

func init() { sources.Register(Type, sources.Pull, factory) }

func factory(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
	return New(es, deps)
}

// entry is one named entry, ready to dial.
type entry struct {
	name     string
	url      string
	subject  string
	queue    string
	tls      *tls.Config
	auth     *conn.NATSAuth
	jsonBody bool
	metadata map[string]string
	// metadataJSON is metadata encoded, nil when there is none.
	metadataJSON []byte
	filter       *filter.Filter
	metrics      *metrics.SourceEvent
	log          *zap.Logger
}

// New builds the source of every spec.nats entry of es: it reads the
// entries' secrets and compiles their filters, and dials nothing. Problems
// are *apis.FieldError at `spec.nats[<name>].<field>`.
func New(es *v1alpha1.EventSource, deps sources.Deps) (*pull.Source, error) {
	ctx := context.Background()
	return pull.Build(es, Type, deps, func(name string, log *zap.Logger) (pull.Entry, *apis.FieldError) {
		spec := es.Spec.NATS[name]
		e, fe := newEntry(ctx, name, &spec, deps)
		if fe != nil {
			return pull.Entry{}, fe
		}
		e.metrics = deps.Metrics.Event(es.Name, name)
		e.log = log
		return pull.Entry{Dial: e.dial, Options: pull.Options{
			Attempts:  untilStored,
			Reconnect: pull.Reconnect(spec.ConnectionBackoff),
		}}, nil
	})
}

// untilStored is the runner's emit attempts per message: a core NATS
// message handed back is lost, so it is emitted again until stored or the
// source stops.
const untilStored = 1 << 30

func newEntry(ctx context.Context, name string, spec *v1alpha1.NATSEventsSource, deps sources.Deps) (*entry, *apis.FieldError) {
	e := &entry{name: name, url: spec.URL, subject: spec.Subject, jsonBody: spec.JSONBody}
	var errs *apis.FieldError
	if spec.Queue != nil {
		if *spec.Queue == "" {
			errs = errs.Also(apis.ErrInvalidValue("", "queue", "a queue group name may not be empty"))
		}
		e.queue = *spec.Queue
	}
	if len(spec.Metadata) > 0 {
		e.metadata = spec.Metadata
		b, err := json.Marshal(spec.Metadata)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(err.Error(), "metadata"))
		}
		e.metadataJSON = b
	}
	if spec.Filter != nil && spec.Filter.Expression != "" {
		f, err := filter.Compile(spec.Filter.Expression)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(spec.Filter.Expression, "filter.expression", err.Error()))
		}
		e.filter = f
	}
	var fe *apis.FieldError
	if e.tls, fe = conn.TLS(ctx, spec.TLS, deps.Secrets); fe != nil {
		errs = errs.Also(fe)
	}
	if e.auth, fe = conn.ResolveNATSAuth(ctx, spec.Auth, deps.Secrets); fe != nil {
		errs = errs.Also(fe)
	}
	return e, errs
}

// eventData is Argo's NATSEventData.
type eventData struct {
	Subject  string              `json:"subject"`
	Body     any                 `json:"body"`
	Header   map[string][]string `json:"header,omitempty"`
	Metadata map[string]string   `json:"metadata,omitempty"`
}

// data is the Argo event data of one message: its payload base64, or as
// JSON with jsonBody (an error when it is not JSON). The common case (no
// header, no jsonBody, a plain subject) is written directly, byte for byte
// what encoding/json writes; the others go through it.
func (e *entry) data(subject string, header map[string][]string, payload []byte) ([]byte, error) {
	if e.jsonBody || len(header) > 0 || !jsontext.Plain(subject) {
		d := eventData{Subject: subject, Header: header, Metadata: e.metadata, Body: payload}
		if e.jsonBody {
			d.Body = json.RawMessage(payload)
		}
		return json.Marshal(d)
	}
	b := make([]byte, 0, len(`{"subject":"","body":""}`)+len(subject)+jsontext.BytesLen(payload)+len(e.metadataJSON)+len(`,"metadata":`))
	b = append(b, `{"subject":"`...)
	b = append(b, subject...)
	b = append(b, `","body":`...)
	b = jsontext.AppendBytes(b, payload)
	if e.metadataJSON != nil {
		b = append(b, `,"metadata":`...)
		b = append(b, e.metadataJSON...)
	}
	return append(b, '}'), nil
}
