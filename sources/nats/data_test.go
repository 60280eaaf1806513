package nats

import (
	"encoding/json"
	"testing"
)

// TestDataIsArgos: the event data written directly is byte for byte what
// encoding/json writes of Argo's NATSEventData, and the other paths are it.
func TestDataIsArgos(t *testing.T) {
	meta := map[string]string{"team": "a<b", "z": "1"}
	metaJSON, _ := json.Marshal(meta)
	cases := []struct {
		name     string
		e        entry
		subject  string
		header   map[string][]string
		payload  []byte
		jsonBody bool
	}{
		{name: "plain", e: entry{}, subject: "orders.eu", payload: []byte("hello")},
		{name: "metadata", e: entry{metadata: meta, metadataJSON: metaJSON}, subject: "orders", payload: []byte{0, 1, 2, 255}},
		{name: "nil payload", e: entry{}, subject: "a", payload: nil},
		{name: "empty payload", e: entry{}, subject: "a", payload: []byte{}},
		{name: "html in subject", e: entry{}, subject: "a<b>&c", payload: []byte("x")},
		{name: "header", e: entry{metadata: meta, metadataJSON: metaJSON}, subject: "a", header: map[string][]string{"K": {"v"}}, payload: []byte("x")},
		{name: "jsonBody", e: entry{jsonBody: true}, subject: "a", payload: []byte(`{ "a" : "<1>" }`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.e.data(tc.subject, tc.header, tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			want := eventData{Subject: tc.subject, Header: tc.header, Metadata: tc.e.metadata, Body: tc.payload}
			if tc.e.jsonBody {
				want.Body = (*json.RawMessage)(&tc.payload) // as Argo sets it
			}
			wb, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(wb) {
				t.Errorf("data\n got %s\nwant %s", got, wb)
			}
		})
	}
	if _, err := (&entry{jsonBody: true}).data("a", nil, []byte("not json")); err == nil {
		t.Error("jsonBody on a payload that is not JSON built data")
	}
}

func TestIDsAreUnique(t *testing.T) {
	var a, b ids
	if err := a.seed(); err != nil {
		t.Fatal(err)
	}
	if err := b.seed(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 1000 {
		for _, id := range []string{a.next(), b.next()} {
			if len(id) != 32 || seen[id] {
				t.Fatalf("id %q repeated or not 32 digits", id)
			}
			seen[id] = true
		}
	}
}
