package filter

import (
	"net/url"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/types"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
)

// fullEvent is a CloudEvents 1.0 event with every context attribute set and
// extensions of every CloudEvents type.
func fullEvent(t testing.TB) *cloudevents.Event {
	t.Helper()
	ev := cloudevents.NewEvent()
	ev.SetID("abc-123")
	ev.SetSource("https://github.com/flintevents/flint")
	ev.SetType("dev.flint.webhook")
	ev.SetSubject("webhook_example")
	ev.SetTime(time.Date(2024, 5, 1, 12, 34, 56, 789_000_000, time.UTC))
	ev.SetDataSchema("https://schemas.flint.dev/webhook.json")
	ev.SetDataContentType("application/json; charset=utf-8")
	ref, err := url.Parse("https://example.com/ref?x=1")
	if err != nil {
		t.Fatal(err)
	}
	exts := map[string]any{
		"team":     "payments",
		"priority": 7,
		"urgent":   true,
		"blob":     []byte{1, 2, 3},
		"ref":      types.URIRef{URL: *ref},
		"when":     time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
		"blank":    "",
	}
	for k, v := range exts {
		if err := ev.Context.SetExtension(k, v); err != nil {
			t.Fatalf("setting extension %s: %v", k, err)
		}
	}
	if err := ev.Validate(); err != nil {
		t.Fatal(err)
	}
	return &ev
}

// bareEvent is a CloudEvents 1.0 event with only the required attributes.
func bareEvent(t testing.TB) *cloudevents.Event {
	t.Helper()
	ev := cloudevents.NewEvent()
	ev.SetID("bare-1")
	ev.SetSource("webhook")
	ev.SetType("webhook")
	if err := ev.Validate(); err != nil {
		t.Fatal(err)
	}
	return &ev
}

// v03Event is fullEvent's context attributes on a CloudEvents 0.3 context.
func v03Event(t testing.TB) *cloudevents.Event {
	t.Helper()
	ev := cloudevents.NewEvent(cloudevents.VersionV03)
	ev.SetID("abc-123")
	ev.SetSource("https://github.com/flintevents/flint")
	ev.SetType("dev.flint.webhook")
	ev.SetSubject("webhook_example")
	ev.SetTime(time.Date(2024, 5, 1, 12, 34, 56, 789_000_000, time.UTC))
	ev.SetDataSchema("https://schemas.flint.dev/webhook.json")
	ev.SetDataContentType("application/json; charset=utf-8")
	ev.SetExtension("team", "payments")
	ev.SetExtension("priority", 7)
	if err := ev.Validate(); err != nil {
		t.Fatal(err)
	}
	return &ev
}

// mustNew compiles spec or fails the test.
func mustNew(t testing.TB, spec *eventingv1.TriggerSpec) Filter {
	t.Helper()
	f, err := New(spec)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

// filters is a TriggerSpec holding the given SubscriptionsAPI filters.
func filters(fs ...eventingv1.SubscriptionsAPIFilter) *eventingv1.TriggerSpec {
	return &eventingv1.TriggerSpec{Filters: fs}
}

// attrs is a TriggerSpec holding a legacy attributes filter.
func attrs(kv map[string]string) *eventingv1.TriggerSpec {
	return &eventingv1.TriggerSpec{Filter: &eventingv1.TriggerFilter{Attributes: kv}}
}

// eventNamed returns the event a dialect table names: "full", "bare",
// "v03" or "nil-context".
func eventNamed(t testing.TB, name string) *cloudevents.Event {
	t.Helper()
	switch name {
	case "full":
		return fullEvent(t)
	case "bare":
		return bareEvent(t)
	case "v03":
		return v03Event(t)
	case "nil-context":
		return &cloudevents.Event{}
	}
	t.Fatalf("unknown event %q", name)
	return nil
}

// matchCase is one row of a dialect table: the spec, the event's name in
// events, and whether it must match.
type matchCase struct {
	name  string
	spec  *eventingv1.TriggerSpec
	event string
	want  bool
}

// runMatchCases compiles and matches every row in parallel.
func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := mustNew(t, tc.spec)
			if got := f.Match(eventNamed(t, tc.event)); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}
