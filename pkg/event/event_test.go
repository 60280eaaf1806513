package event

import (
	"encoding/json"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	ce, err := New("abc", "webhook", "example", "webhook", at, map[string]any{"body": map[string]any{"message": "hello"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ce.Validate(); err != nil {
		t.Fatalf("emitted event is not a valid CloudEvent: %v", err)
	}
	ev := FromCloudEvent(ce)
	want := Context{ID: "abc", Source: "webhook", SpecVersion: "1.0", Type: "webhook", DataContentType: "application/json", Subject: "example", Time: at}
	if ev.Context != want {
		t.Fatalf("context = %+v, want %+v", ev.Context, want)
	}
	if got := string(ev.Data); got != `{"body":{"message":"hello"}}` {
		t.Fatalf("data = %s", got)
	}
	back := ev.CloudEvent()
	if back.ID() != "abc" || back.Subject() != "example" || string(back.Data()) != string(ev.Data) {
		t.Fatalf("round trip lost attributes: %s", back.String())
	}
	// Argo marshals data as base64 in the whole-event JSON that parameters fall back to.
	raw, _ := json.Marshal(ev)
	var generic map[string]any
	_ = json.Unmarshal(raw, &generic)
	if generic["data"] != "eyJib2R5Ijp7Im1lc3NhZ2UiOiJoZWxsbyJ9fQ==" {
		t.Fatalf("whole-event JSON data = %v", generic["data"])
	}
}

func TestNewRawBytes(t *testing.T) {
	t.Parallel()
	ce, err := New("1", "s", "e", "t", time.Now(), []byte(`[1,2]`))
	if err != nil {
		t.Fatal(err)
	}
	if string(ce.Data()) != "[1,2]" {
		t.Fatalf("data = %s", ce.Data())
	}
}
