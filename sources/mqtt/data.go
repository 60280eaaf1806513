package mqtt

import "encoding/json"

// eventData is Argo's mqtt event data: the topic the message was published
// on, its packet id, the payload (base64, or as JSON with jsonBody) and the
// entry's metadata.
type eventData struct {
	Topic     string            `json:"topic"`
	MessageID int               `json:"messageId"`
	Body      any               `json:"body"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// eventDataOf is the event data of one message; with jsonBody a payload
// that is not JSON makes no event (nil), as in Argo.
func eventDataOf(topic string, mid uint16, payload []byte, jsonBody bool, metadata map[string]string) []byte {
	d := eventData{Topic: topic, MessageID: int(mid), Body: payload, Metadata: metadata}
	if jsonBody {
		if !json.Valid(payload) {
			return nil
		}
		d.Body = json.RawMessage(payload)
	}
	out, err := json.Marshal(d)
	if err != nil {
		return nil
	}
	return out
}
