package pull

import (
	"fmt"

	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
)

// EntryBuilder checks one entry of a pull type and returns what its runner
// needs; log already names the EventSource and the entry. A problem is a
// field error relative to the entry (`url`, `tls.caCertSecret`).
type EntryBuilder func(name string, log *zap.Logger) (Entry, *apis.FieldError)

// Build is a pull type's factory around build: it runs build on each of es's
// entries under typeKey, in name order, and returns their source, or every
// problem found, each at `spec.<typeKey>[<name>].<field>`. An Entry without
// Options.Name or Options.Logger gets the entry's.
func Build(es *v1alpha1.EventSource, typeKey string, deps sources.Deps, build EntryBuilder) (*Source, error) {
	if es == nil {
		return nil, fmt.Errorf("%s: eventsource is nil", typeKey)
	}
	names := es.Spec.EventNames(typeKey)
	if len(names) == 0 {
		return nil, apis.ErrGeneric(fmt.Sprintf("eventsource %s has no spec.%s entries", es.Name, typeKey), "spec."+typeKey)
	}
	log := deps.Logger
	if log == nil {
		log = zap.NewNop()
	}
	var errs *apis.FieldError
	entries := make([]Entry, 0, len(names))
	for _, name := range names {
		entryLog := log.With(zap.String("eventSource", es.Name), zap.String("eventName", name))
		e, fe := build(name, entryLog)
		if fe != nil {
			errs = errs.Also(fe.ViaFieldKey(typeKey, name).ViaField("spec"))
			continue
		}
		if e.Options.Name == "" {
			e.Options.Name = name
		}
		if e.Options.Logger == nil {
			e.Options.Logger = entryLog
		}
		entries = append(entries, e)
	}
	if errs != nil {
		return nil, errs
	}
	return NewSource(entries...)
}
