package kafka

import (
	"encoding/json"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// eventData is Argo's kafka event data, its fields in Argo's order.
type eventData struct {
	Topic     string            `json:"topic"`
	Key       string            `json:"key"`
	Partition int               `json:"partition"`
	Body      any               `json:"body"`
	Timestamp string            `json:"timestamp"`
	Headers   map[string]string `json:"headers"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// newEventData is the event data of a record as Argo writes it: the value
// base64 in `body`, or, with jsonBody, the value itself as JSON (an error
// when it is not); the timestamp as Go prints a time; headers as a map in
// which the last of a repeated key wins.
func newEventData(r *kgo.Record, jsonBody bool, metadata map[string]string) ([]byte, error) {
	d := eventData{
		Topic:     r.Topic,
		Key:       string(r.Key),
		Partition: int(r.Partition),
		Body:      r.Value,
		Timestamp: r.Timestamp.String(),
		Headers:   make(map[string]string, len(r.Headers)),
		Metadata:  metadata,
	}
	for _, h := range r.Headers {
		d.Headers[h.Key] = string(h.Value)
	}
	if jsonBody {
		if len(r.Value) > 0 && !json.Valid(r.Value) {
			return nil, fmt.Errorf("jsonBody is set and the value is not JSON")
		}
		d.Body = json.RawMessage(r.Value)
		if len(r.Value) == 0 {
			d.Body = nil
		}
	}
	return json.Marshal(d)
}
