// Package event holds the event envelope that flows between sources, the broker and
// sensors: a CloudEvent on the wire, an Argo Events context + data pair inside a sensor.
package event

import (
	"encoding/json"
	"fmt"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// Context is the Argo Events view of the CloudEvent attributes; its JSON field
// names are the ones Argo's `contextKey` parameters and context filters use.
type Context struct {
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	SpecVersion     string    `json:"specversion"`
	Type            string    `json:"type"`
	DataContentType string    `json:"datacontenttype"`
	Subject         string    `json:"subject"`
	Time            time.Time `json:"time"`
}

// Event is one Argo Events event: its context and its raw data (JSON for every
// flint source). It marshals as Argo does, with data as base64.
type Event struct {
	Context Context `json:"context"`
	Data    []byte  `json:"data"`
}

// FromCloudEvent converts a delivered CloudEvent into the Argo event a sensor sees.
func FromCloudEvent(ce cloudevents.Event) *Event {
	return &Event{
		Context: Context{
			ID:              ce.ID(),
			Source:          ce.Source(),
			SpecVersion:     ce.SpecVersion(),
			Type:            ce.Type(),
			DataContentType: ce.DataContentType(),
			Subject:         ce.Subject(),
			Time:            ce.Time(),
		},
		Data: ce.Data(),
	}
}

// CloudEvent converts the event back into a CloudEvent (data kept as is).
func (e *Event) CloudEvent() cloudevents.Event {
	ce := cloudevents.NewEvent()
	ce.SetID(e.Context.ID)
	ce.SetSource(e.Context.Source)
	ce.SetType(e.Context.Type)
	ce.SetSubject(e.Context.Subject)
	if !e.Context.Time.IsZero() {
		ce.SetTime(e.Context.Time)
	}
	ct := e.Context.DataContentType
	if ct == "" {
		ct = cloudevents.ApplicationJSON
	}
	ce.SetDataContentType(ct)
	ce.DataEncoded = e.Data
	return ce
}

// New builds the CloudEvent a source emits: source = EventSource name,
// subject = event name, type = source type, data = the JSON encoding of data.
func New(id, eventSource, eventName, sourceType string, at time.Time, data any) (cloudevents.Event, error) {
	ce := cloudevents.NewEvent()
	ce.SetID(id)
	ce.SetSource(eventSource)
	ce.SetSubject(eventName)
	ce.SetType(sourceType)
	ce.SetTime(at)
	raw, ok := data.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(data); err != nil {
			return ce, fmt.Errorf("encoding event data: %w", err)
		}
	}
	ce.SetDataContentType(cloudevents.ApplicationJSON)
	ce.DataEncoded = raw
	return ce, nil
}
