// Package webhook is the `webhook` event source type: every named entry of an
// EventSource's spec.webhook is an HTTP route of the shared receiver whose
// requests become events.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/filter"
	"github.com/flintevents/flint/sources/receiver"
)

// Type is the EventSource type key, and the CloudEvent type, of webhook events.
const Type = "webhook"

func init() {
	sources.Register(Type, func(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
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
	eventName string
	route     *receiver.Route
	metadata  []byte // encoded JSON, nil when empty
	filter    *filter.Filter
	log       *zap.SugaredLogger
}

// New registers the routes of es's webhook entries on deps.Receiver and
// returns their Source; the routes answer 503 until Run. es is expected to be
// defaulted and validated (pkg/manifest); New reports what it cannot serve:
// route conflicts, TLS disagreements on a port, bad filter expressions.
func New(es *v1alpha1.EventSource, deps sources.Deps) (*Source, error) {
	if es == nil {
		return nil, errors.New("webhook: eventsource is nil")
	}
	if len(es.Spec.Webhook) == 0 {
		return nil, apis.ErrGeneric(fmt.Sprintf("eventsource %s has no spec.webhook entries", es.Name), "spec.webhook")
	}
	if deps.Receiver == nil {
		return nil, errors.New("webhook: no receiver to serve the routes on")
	}
	log := deps.Logger
	if log == nil {
		log = zap.NewNop()
	}
	s := &Source{eventSource: es.Name}
	names := make([]string, 0, len(es.Spec.Webhook))
	for name := range es.Spec.Webhook {
		names = append(names, name)
	}
	sort.Strings(names)
	var errs *apis.FieldError
	for _, name := range names {
		e, fe := newEntry(es.Name, name, es.Spec.Webhook[name], deps.Receiver)
		if fe != nil {
			errs = errs.Also(fe.ViaFieldKey("webhook", name).ViaField("spec"))
			continue
		}
		e.log = log.Sugar().With("eventSource", es.Name, "eventName", name)
		s.entries = append(s.entries, e)
	}
	if errs != nil {
		return nil, errs
	}
	return s, nil
}

func newEntry(eventSource, name string, w v1alpha1.WebhookEventSource, rcv *receiver.Receiver) (*entry, *apis.FieldError) {
	e := &entry{eventName: name}
	var errs *apis.FieldError
	if len(w.Metadata) > 0 {
		b, err := json.Marshal(w.Metadata)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(err.Error(), "metadata"))
		}
		e.metadata = b
	}
	if w.Filter != nil && strings.TrimSpace(w.Filter.Expression) != "" {
		f, err := filter.Compile(w.Filter.Expression)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(w.Filter.Expression, "filter.expression", err.Error()))
		}
		e.filter = f
	}
	if errs != nil {
		return nil, errs
	}
	rt, fe := rcv.Route(receiver.FromWebhookContext(eventSource, fmt.Sprintf("spec.webhook[%s]", name), &w.WebhookContext))
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
