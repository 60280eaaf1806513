// Package webhook is the `webhook` event source type: every named entry of an
// EventSource's spec.webhook is an HTTP route of the shared receiver whose
// requests become events.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/receiver"
)

// Type is the EventSource type key, and the CloudEvent type, of webhook events.
const Type = "webhook"

func init() {
	sources.Register(Type, sources.Push, func(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
		return New(es, deps)
	})
}

// Source serves every webhook entry of one EventSource, one receiver route each.
type Source struct {
	eventSource string
	entries     []*entry
	started     atomic.Bool
}

var _ sources.Source = (*Source)(nil)

// entry is one webhook entry and its route.
type entry struct {
	sources.PushEntry
	route    *receiver.Route
	metadata []byte // encoded JSON, nil when empty
}

// New registers the routes of es's webhook entries on deps.Receiver and
// returns their Source; the routes answer 503 until Run. es is expected to be
// defaulted and validated (pkg/manifest); New reports what it cannot serve:
// route conflicts, TLS disagreements on a port, bad filter expressions.
func New(es *v1alpha1.EventSource, deps sources.Deps) (*Source, error) {
	entries, err := sources.NewPushEntries(Type, es, deps, func(p sources.PushEntry) (*entry, *apis.FieldError) {
		return newEntry(es.Name, p, es.Spec.Webhook[p.Name], deps.Receiver)
	})
	if err != nil {
		return nil, err
	}
	return &Source{eventSource: es.Name, entries: entries}, nil
}

func newEntry(eventSource string, p sources.PushEntry, w v1alpha1.WebhookEventSource, rcv *receiver.Receiver) (*entry, *apis.FieldError) {
	e := &entry{PushEntry: p}
	var errs *apis.FieldError
	if len(w.Metadata) > 0 {
		b, err := json.Marshal(w.Metadata)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(err.Error(), "metadata"))
		}
		e.metadata = b
	}
	errs = errs.Also(e.CompileFilter(w.Filter))
	if errs != nil {
		return nil, errs
	}
	rt, fe := rcv.Route(receiver.FromWebhookContext(eventSource, fmt.Sprintf("spec.webhook[%s]", p.Name), &w.WebhookContext))
	if fe != nil {
		return nil, fe
	}
	e.route = rt
	return e, nil
}

// Run attaches the entries' handlers to their routes and serves until ctx
// ends; then it detaches them, waiting for the requests in flight, and
// returns nil. A Source runs once.
func (s *Source) Run(ctx context.Context, emit sources.Emitter) error {
	if emit == nil {
		return errors.New("webhook: emitter is nil")
	}
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("webhook: source already started")
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
			return fmt.Errorf("webhook: eventsource %s: %w", s.eventSource, err)
		}
		detaches = append(detaches, d)
	}
	<-ctx.Done()
	return nil
}
