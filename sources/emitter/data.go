package emitter

import (
	"encoding/json"
	"errors"
)

// errNotJSON says a body under jsonBody was not JSON; the data carries it
// as a JSON string instead.
var errNotJSON = errors.New("the body is not JSON")

// data is Argo's event data of an emitter message.
type data struct {
	// Topic is the channel the broker sent the message on, e.g. "chat/".
	Topic string `json:"topic"`
	// Body is the payload: []byte (base64 in JSON), or the JSON itself.
	Body any `json:"body"`
	// Metadata is the entry's metadata, left out when empty.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// eventData is the event data of a message: the payload base64-encoded, or
// with jsonBody the payload itself; a payload that is not JSON under
// jsonBody is carried as a JSON string, and errNotJSON says so.
func eventData(topic string, payload []byte, jsonBody bool, metadata map[string]string) ([]byte, error) {
	d := data{Topic: topic, Body: payload, Metadata: metadata}
	var note error
	if jsonBody {
		if json.Valid(payload) {
			d.Body = json.RawMessage(payload)
		} else {
			d.Body = string(payload)
			note = errNotJSON
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return b, note
}
