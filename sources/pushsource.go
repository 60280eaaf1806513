package sources

import (
	"fmt"
	"strings"

	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/lograte"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/sources/filter"
)

// PushEntry is what every entry of a push source type shares: its name, its
// compiled `filter.expression`, its logger and its metrics. Its Push method
// ends the entry's requests.
type PushEntry struct {
	// Name is the entry name under the type key: the event name.
	Name string
	// Filter is the entry's filter expression; nil passes every event.
	Filter *filter.Filter
	// Log carries the entry's eventSource and eventName fields.
	Log *zap.SugaredLogger
	// Metrics counts the events Filter drops; nil counts nothing.
	Metrics *metrics.SourceEvent
	// Refusals writes the error line of each event the broker did not store,
	// at most once per reason in ten seconds, with a count of the others; nil
	// writes every one to Log.
	Refusals *lograte.Limiter
}

// CompileFilter compiles spec's expression into p.Filter; a nil spec or a
// blank expression leaves p.Filter nil. The problem's path is relative to the
// entry (filter.expression).
func (p *PushEntry) CompileFilter(spec *v1alpha1.EventSourceFilter) *apis.FieldError {
	if spec == nil || strings.TrimSpace(spec.Expression) == "" {
		return nil
	}
	f, err := filter.Compile(spec.Expression)
	if err != nil {
		return apis.ErrInvalidValue(spec.Expression, "filter.expression", err.Error())
	}
	p.Filter = f
	return nil
}

// NewPushEntries is the start of every push source type's New. It refuses a
// nil EventSource, one without entries under typeKey, and deps without a
// Receiver to route on; then it calls build once per entry, in name order,
// with the entry's PushEntry (its metrics from deps.Metrics). It returns what build made, or the problems of
// every entry, each under spec.<typeKey>[<name>].
func NewPushEntries[E any](typeKey string, es *v1alpha1.EventSource, deps Deps, build func(PushEntry) (E, *apis.FieldError)) ([]E, error) {
	if es == nil {
		return nil, fmt.Errorf("%s: eventsource is nil", typeKey)
	}
	names := es.Spec.EventNames(typeKey)
	if len(names) == 0 {
		return nil, apis.ErrGeneric(fmt.Sprintf("eventsource %s has no spec.%s entries", es.Name, typeKey), "spec."+typeKey)
	}
	if deps.Receiver == nil {
		return nil, fmt.Errorf("%s: no receiver to serve the routes on", typeKey)
	}
	log := deps.Logger
	if log == nil {
		log = zap.NewNop()
	}
	entries := make([]E, 0, len(names))
	var errs *apis.FieldError
	for _, name := range names {
		entryLog := log.With(zap.String("eventSource", es.Name), zap.String("eventName", name))
		e, fe := build(PushEntry{
			Name:     name,
			Log:      entryLog.Sugar(),
			Metrics:  deps.Metrics.Event(es.Name, name),
			Refusals: lograte.New(entryLog, lograte.DefaultWindow),
		})
		if fe != nil {
			errs = errs.Also(fe.ViaFieldKey(typeKey, name).ViaField("spec"))
			continue
		}
		entries = append(entries, e)
	}
	if errs != nil {
		return nil, errs
	}
	return entries, nil
}
