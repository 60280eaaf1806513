package host

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/sources"
)

// Sink stores one CloudEvent; a nil error means the broker acknowledged it.
// sink.Sink.Emit is one, and so is an in-process JetStream publisher.
type Sink func(ctx context.Context, ev cloudevents.Event) error

// StampOptions tune Stamp.
type StampOptions struct {
	// Extensions are added to every event (K_CE_OVERRIDES); an extension the
	// source sets itself wins.
	Extensions map[string]string
	// Now is the clock for events without a time; time.Now when nil.
	Now func() time.Time
	// NewID mints the id of events without one; 32 random hex digits when nil.
	NewID func() string
	// Metrics counts every event (received, sent, failed, time to the
	// broker's acknowledgement) per event name; nil counts nothing.
	Metrics *metrics.Source
	// EventNames are the entries whose metrics are resolved up front; an
	// event of another name resolves its own.
	EventNames []string
}

// Stamp turns sink into the Emitter of one EventSource's type key: every event
// becomes a CloudEvent with source = eventSource, type = typeKey, subject =
// the event name, an id (the event's own or a minted one), a time (the
// event's own or the clock's, UTC), specversion 1.0, datacontenttype
// application/json and the extensions. It fails on an invalid extension name.
func Stamp(eventSource, typeKey string, sink Sink, opts StampOptions) (sources.Emitter, error) {
	if sink == nil {
		return nil, fmt.Errorf("stamping events of %s: sink is nil", eventSource)
	}
	probe := cloudevents.NewEvent()
	for k, v := range opts.Extensions {
		if err := probe.Context.SetExtension(k, v); err != nil {
			return nil, fmt.Errorf("extension %q: %w", k, err)
		}
	}
	ext := make(map[string]string, len(opts.Extensions))
	for k, v := range opts.Extensions {
		ext[k] = v
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	newID := opts.NewID
	if newID == nil {
		newID = sources.NewID
	}
	counted := make(map[string]*metrics.SourceEvent, len(opts.EventNames))
	for _, n := range opts.EventNames {
		counted[n] = opts.Metrics.Event(eventSource, n)
	}
	return func(ctx context.Context, ev sources.Event) error {
		m, ok := counted[ev.Name]
		if !ok {
			m = opts.Metrics.Event(eventSource, ev.Name)
		}
		start := m.Received()
		id := ev.ID
		if id == "" {
			id = newID()
		}
		at := ev.Time
		if at.IsZero() {
			at = now()
		}
		ce, err := event.New(id, eventSource, ev.Name, typeKey, at.UTC(), ev.Data)
		if err != nil {
			m.Failed()
			return fmt.Errorf("building event %s: %w", id, err)
		}
		for k, v := range ext {
			if _, own := ev.Extensions[k]; !own {
				ce.SetExtension(k, v)
			}
		}
		for k, v := range ev.Extensions {
			if err := ce.Context.SetExtension(k, v); err != nil {
				m.Failed()
				return fmt.Errorf("building event %s: extension %q: %w", id, k, err)
			}
		}
		if err := sink(ctx, ce); err != nil {
			m.SendFailed()
			return err
		}
		m.Sent(start)
		return nil
	}, nil
}

// ParseOverrides decodes K_CE_OVERRIDES (`{"extensions":{"name":"value"}}`);
// an empty string yields no extensions.
func ParseOverrides(raw string) (map[string]string, error) {
	if raw == "" {
		return nil, nil
	}
	var o struct {
		Extensions map[string]string `json:"extensions"`
	}
	if err := json.Unmarshal([]byte(raw), &o); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", EnvCEOverrides, err)
	}
	return o.Extensions, nil
}
