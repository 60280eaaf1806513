package amqp

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// eventData is Argo Events' AMQPEventData: the event data of one message,
// its fields in Argo's order.
type eventData struct {
	ContentType     string            `json:"contentType"`
	ContentEncoding string            `json:"contentEncoding"`
	DeliveryMode    int               `json:"deliveryMode"`
	Priority        int               `json:"priority"`
	CorrelationID   string            `json:"correlationId"`
	ReplyTo         string            `json:"replyTo"`
	Expiration      string            `json:"expiration"`
	MessageID       string            `json:"messageId"`
	Timestamp       string            `json:"timestamp"`
	Type            string            `json:"type"`
	AppID           string            `json:"appId"`
	Exchange        string            `json:"exchange"`
	RoutingKey      string            `json:"routingKey"`
	Body            any               `json:"body"`
	Metadata        map[string]string `json:"metadata,omitempty"`
}

// errNotJSON is a body that is not JSON under jsonBody.
var errNotJSON = errors.New("the body is not JSON, and jsonBody is set")

// data is the event data of d: the body raw when jsonBody (it must then be
// JSON), else base64 encoded. The timestamp is written as Go prints a
// time, as Argo does, in UTC ("2024-01-02 03:04:05 +0000 UTC").
func data(d *amqp091.Delivery, jsonBody bool, metadata map[string]string) ([]byte, error) {
	ev := eventData{
		ContentType:     d.ContentType,
		ContentEncoding: d.ContentEncoding,
		DeliveryMode:    int(d.DeliveryMode),
		Priority:        int(d.Priority),
		CorrelationID:   d.CorrelationId,
		ReplyTo:         d.ReplyTo,
		Expiration:      d.Expiration,
		MessageID:       d.MessageId,
		Timestamp:       d.Timestamp.UTC().String(),
		Type:            d.Type,
		AppID:           d.AppId,
		Exchange:        d.Exchange,
		RoutingKey:      d.RoutingKey,
		Body:            d.Body,
		Metadata:        metadata,
	}
	if jsonBody {
		if !json.Valid(d.Body) {
			return nil, errNotJSON
		}
		ev.Body = json.RawMessage(d.Body)
	}
	return json.Marshal(ev)
}

// deliveryCount is the header quorum queues add, and raise, on each
// redelivery; it is left out of the digest.
const deliveryCount = "x-delivery-count"

// naturalID is the event id of d read by entry: its message id when set,
// else a digest of what stays the same across its redeliveries (see the
// package documentation).
func naturalID(entry string, d *amqp091.Delivery) string {
	if d.MessageId != "" {
		return entry + "/id/" + d.MessageId
	}
	h := sha256.New()
	for _, s := range []string{
		d.Exchange, d.RoutingKey, d.ContentType, d.ContentEncoding, d.CorrelationId,
		d.ReplyTo, d.Expiration, d.Type, d.UserId, d.AppId,
	} {
		field(h, []byte(s))
	}
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(d.Timestamp.Unix()))
	field(h, []byte{d.DeliveryMode, d.Priority})
	field(h, n[:])
	headers := make(amqp091.Table, len(d.Headers))
	for k, v := range d.Headers {
		if k != deliveryCount {
			headers[k] = v
		}
	}
	hb, _ := json.Marshal(headers) // map keys sorted: stable
	field(h, hb)
	field(h, d.Body)
	return entry + "/hash/" + hex.EncodeToString(h.Sum(nil)[:16])
}

// field writes b to h with its length first, so that fields cannot run into
// one another.
func field(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}
