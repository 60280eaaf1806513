package filter

import (
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
)

func TestAttributeTest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		event string
		name  string
		want  string // the attribute's text; "" means absent or empty
	}{
		{event: "full", name: "specversion", want: "1.0"},
		{event: "full", name: "id", want: "abc-123"},
		{event: "full", name: "source", want: "https://github.com/flintevents/flint"},
		{event: "full", name: "type", want: "dev.flint.webhook"},
		{event: "full", name: "subject", want: "webhook_example"},
		{event: "full", name: "time", want: "2024-05-01T12:34:56.789Z"},
		{event: "full", name: "dataschema", want: "https://schemas.flint.dev/webhook.json"},
		{event: "full", name: "schemaurl", want: "https://schemas.flint.dev/webhook.json"},
		{event: "full", name: "datacontenttype", want: "application/json; charset=utf-8"},
		{event: "full", name: "datamediatype", want: "application/json"},
		{event: "full", name: "datacontentencoding", want: ""},
		{event: "full", name: "team", want: "payments"},
		{event: "full", name: "priority", want: "7"},
		{event: "full", name: "urgent", want: "true"},
		{event: "full", name: "blob", want: "AQID"},
		{event: "full", name: "ref", want: "https://example.com/ref?x=1"},
		{event: "full", name: "when", want: "2024-05-01T10:00:00Z"},
		{event: "full", name: "blank", want: ""},
		{event: "full", name: "nosuch", want: ""},
		{event: "bare", name: "source", want: "webhook"},
		{event: "bare", name: "subject", want: ""},
		{event: "bare", name: "time", want: ""},
		{event: "bare", name: "dataschema", want: ""},
		{event: "bare", name: "datacontenttype", want: ""},
		{event: "bare", name: "datamediatype", want: ""},
		{event: "v03", name: "specversion", want: "0.3"},
		{event: "v03", name: "id", want: "abc-123"},
		{event: "v03", name: "source", want: "https://github.com/flintevents/flint"},
		{event: "v03", name: "type", want: "dev.flint.webhook"},
		{event: "v03", name: "subject", want: "webhook_example"},
		{event: "v03", name: "time", want: "2024-05-01T12:34:56.789Z"},
		{event: "v03", name: "schemaurl", want: "https://schemas.flint.dev/webhook.json"},
		{event: "v03", name: "datamediatype", want: "application/json"},
		{event: "v03", name: "team", want: "payments"},
		{event: "v03", name: "priority", want: "7"},
		{event: "v03", name: "nosuch", want: ""},
		{event: "nil-context", name: "type", want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.event+"/"+tc.name, func(t *testing.T) {
			t.Parallel()
			ev := eventNamed(t, tc.event)
			a := attributeNamed(tc.name)
			present := a.test(ev, opPresent, "")
			if present != (tc.want != "") {
				t.Fatalf("present = %v, want %v", present, tc.want != "")
			}
			if tc.want == "" {
				return
			}
			if !a.test(ev, opEqual, tc.want) {
				t.Errorf("not equal to %q", tc.want)
			}
			if a.test(ev, opEqual, tc.want+"x") {
				t.Errorf("equal to %q", tc.want+"x")
			}
			if !a.test(ev, opPrefix, tc.want[:1]) || !a.test(ev, opSuffix, tc.want[len(tc.want)-1:]) {
				t.Errorf("prefix/suffix of %q do not pass", tc.want)
			}
		})
	}
}

func TestExtensionValues(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		value any
		want  string // "" means absent
	}{
		{name: "string", value: "a b", want: "a b"},
		{name: "false", value: false, want: "false"},
		{name: "negative int32", value: int32(-42), want: "-42"},
		{name: "int64 in range", value: int64(9), want: "9"},
		{name: "int64 out of range", value: int64(1) << 40, want: ""},
		{name: "empty binary", value: []byte{}, want: ""},
		{name: "timestamp with nanoseconds", value: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), want: "2024-01-02T03:04:05.000000006Z"},
		{name: "nil", value: nil, want: ""},
		{name: "unsupported type", value: struct{}{}, want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := cloudevents.NewEvent()
			// Set the map directly: SetExtension would normalise or refuse values.
			ev.Context.(*event.EventContextV1).Extensions = map[string]any{"ext": tc.value}
			a := attributeNamed("ext")
			if got := a.test(&ev, opPresent, ""); got != (tc.want != "") {
				t.Fatalf("present = %v, want %v", got, tc.want != "")
			}
			if tc.want != "" && !a.test(&ev, opEqual, tc.want) {
				t.Errorf("not equal to %q", tc.want)
			}
		})
	}
}

func TestTimeOutOfRange(t *testing.T) {
	t.Parallel()
	ev := cloudevents.NewEvent()
	ev.SetTime(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	if attributeNamed("time").test(&ev, opPresent, "") {
		t.Error("time with year 10000 passes a presence test, want absent")
	}
}

func TestTimeKeepsOffset(t *testing.T) {
	t.Parallel()
	ev := cloudevents.NewEvent()
	ev.SetTime(time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("", -5*3600)))
	if want := "2024-05-01T12:00:00-05:00"; !attributeNamed("time").test(&ev, opEqual, want) {
		t.Errorf("time is not %q", want)
	}
}

func TestValidAttributeName(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"type": true, "a": true, "ext1": true, "a0b1": true,
		"": false, "1a": false, "Type": false, "my-ext": false, "my_ext": false, "é": false, "a ": false,
	}
	for name, want := range cases {
		if got := validAttributeName(name); got != want {
			t.Errorf("validAttributeName(%q) = %v, want %v", name, got, want)
		}
	}
}
