package kafka

import (
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/flintevents/flint/pkg/jsontext"
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
	var headers map[string]string
	if len(r.Headers) > 0 {
		headers = make(map[string]string, len(r.Headers))
		for _, h := range r.Headers {
			headers[h.Key] = string(h.Value)
		}
	}
	if jsonBody {
		d := eventData{Topic: r.Topic, Key: string(r.Key), Partition: int(r.Partition),
			Timestamp: r.Timestamp.String(), Headers: headers, Metadata: metadata}
		if d.Headers == nil {
			d.Headers = map[string]string{}
		}
		if len(r.Value) > 0 {
			if !json.Valid(r.Value) {
				return nil, errors.New("jsonBody is set and the value is not JSON")
			}
			d.Body = json.RawMessage(r.Value)
		}
		return json.Marshal(d)
	}
	return appendBase64Data(r, headers, metadata), nil
}

// timeLayout is the layout of time.Time's String, which Argo's timestamp is.
const timeLayout = "2006-01-02 15:04:05.999999999 -0700 MST"

// appendBase64Data writes the event data of a record whose body is base64
// in one allocation, byte for byte what encoding/json writes for eventData
// (the hot path of every source without jsonBody).
func appendBase64Data(r *kgo.Record, headers, metadata map[string]string) []byte {
	size := 96 + len(r.Topic) + len(r.Key) + jsontext.BytesLen(r.Value) + 48
	for k, v := range headers {
		size += len(k) + len(v) + 6
	}
	for k, v := range metadata {
		size += len(k) + len(v) + 6
	}
	b := make([]byte, 0, size)
	b = append(b, `{"topic":`...)
	b = jsontext.AppendString(b, r.Topic)
	b = append(b, `,"key":`...)
	b = jsontext.AppendString(b, string(r.Key))
	b = append(b, `,"partition":`...)
	b = strconv.AppendInt(b, int64(r.Partition), 10)
	b = append(b, `,"body":`...)
	b = jsontext.AppendBytes(b, r.Value)
	b = append(b, `,"timestamp":`...)
	b = appendTime(b, r.Timestamp)
	b = append(b, `,"headers":`...)
	b = appendMap(b, headers)
	if len(metadata) > 0 {
		b = append(b, `,"metadata":`...)
		b = appendMap(b, metadata)
	}
	return append(b, '}')
}

// appendTime writes t as a JSON string of its String form, formatted in
// place; a zone name that would need escaping goes through the escaper.
func appendTime(b []byte, t time.Time) []byte {
	start := len(b)
	b = append(b, '"')
	b = t.AppendFormat(b, timeLayout)
	if !jsontext.Plain(b[start+1:]) {
		return jsontext.AppendString(b[:start], t.String())
	}
	return append(b, '"')
}

// appendMap writes a JSON object of m, its keys sorted as encoding/json
// sorts them.
func appendMap(b []byte, m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsontext.AppendString(b, k)
		b = append(b, ':')
		b = jsontext.AppendString(b, m[k])
	}
	return append(b, '}')
}
