package kafka

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestBase64DataIsEncodingJSON checks that the hand-written event data is
// byte for byte what encoding/json writes for Argo's shape.
func TestBase64DataIsEncodingJSON(t *testing.T) {
	stamp := time.Date(2026, 7, 18, 12, 57, 49, 123e6, time.UTC)
	cases := []struct {
		name     string
		record   *kgo.Record
		metadata map[string]string
	}{
		{name: "plain", record: &kgo.Record{Topic: "orders", Key: []byte("k"), Value: []byte("hello"), Partition: 3, Timestamp: stamp}},
		{name: "no value", record: &kgo.Record{Topic: "orders", Timestamp: stamp}},
		{name: "zoned time", record: &kgo.Record{Topic: "orders", Value: []byte("v"), Timestamp: stamp.In(time.FixedZone("CEST", 2*3600))}},
		{name: "zone name escaped", record: &kgo.Record{Topic: "orders", Value: []byte("v"), Timestamp: stamp.In(time.FixedZone("<X&Y>", -3600))}},
		{name: "empty value", record: &kgo.Record{Topic: "orders", Value: []byte{}, Timestamp: stamp}},
		{name: "escapes", record: &kgo.Record{Topic: "o\"rders", Key: []byte("<a&b>\x01\n\t\\ \u2028 é \xff"), Value: []byte{0, 1, 2}, Timestamp: stamp,
			Headers: []kgo.RecordHeader{{Key: "z", Value: []byte("1")}, {Key: "a\"", Value: []byte("<2>")}, {Key: "z", Value: []byte("3")}}},
			metadata: map[string]string{"b": "x", "a": "\u2029"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := newEventData(c.record, false, c.metadata)
			if err != nil {
				t.Fatal(err)
			}
			headers := map[string]string{}
			for _, h := range c.record.Headers {
				headers[h.Key] = string(h.Value)
			}
			want, err := json.Marshal(eventData{Topic: c.record.Topic, Key: string(c.record.Key), Partition: int(c.record.Partition),
				Body: c.record.Value, Timestamp: c.record.Timestamp.String(), Headers: headers, Metadata: c.metadata})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("\n got %s\nwant %s", got, want)
			}
		})
	}
}
