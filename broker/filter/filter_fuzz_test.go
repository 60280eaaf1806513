package filter

import (
	"encoding/json"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
)

// FuzzNew compiles arbitrary trigger filters (a filter element as JSON, and
// a CloudEvents SQL expression). It never panics; a problem names its path;
// a compiled filter answers the same twice, and its negation (`not`) answers
// the opposite on every event.
func FuzzNew(f *testing.F) {
	for _, seed := range []struct{ element, cesql string }{
		{`{"exact": {"type": "dev.flint.webhook"}}`, `type = 'dev.flint.webhook'`},
		{`{"prefix": {"source": "https://"}}`, `EXISTS team AND priority > 3`},
		{`{"suffix": {"subject": "_example"}}`, `LIKE(subject, '%ex%')`},
		{`{"all": [{"exact": {"team": "payments"}}, {"not": {"exact": {"urgent": "false"}}}]}`, `urgent`},
		{`{"any": [{"exact": {"a": "b"}}, {"prefix": {"id": "abc"}}]}`, `INT(priority) + 1 = 8`},
		{`{"exact": {}}`, `(((`},
		{`{"exact": {"type": "a"}, "prefix": {"type": "b"}}`, `1 / 0`},
		{`{"cesql": "id = 'abc-123'"}`, `UPPER(type) IN ('X', 'DEV.FLINT.WEBHOOK')`},
		{`{}`, `NOT TRUE OR blob = 'AQID'`},
	} {
		f.Add(seed.element, seed.cesql)
	}
	events := []*cloudevents.Event{fullEvent(f), emptyEvent()}
	f.Fuzz(func(t *testing.T, element, expression string) {
		var el eventingv1.SubscriptionsAPIFilter
		if err := json.Unmarshal([]byte(element), &el); err != nil {
			el = eventingv1.SubscriptionsAPIFilter{}
		}
		for _, spec := range []*eventingv1.TriggerSpec{
			{Filters: []eventingv1.SubscriptionsAPIFilter{el}},
			{Filters: []eventingv1.SubscriptionsAPIFilter{{CESQL: expression}}},
			{Filter: &eventingv1.TriggerFilter{Attributes: el.Exact}},
		} {
			flt, ferr := New(spec)
			if ferr != nil {
				if ferr.Error() == "" {
					t.Fatalf("a problem without a message for %+v", spec)
				}
				continue
			}
			if len(spec.Filters) == 0 || isEmpty(&spec.Filters[0]) {
				continue // `not: {}` is refused on purpose
			}
			not, nerr := New(&eventingv1.TriggerSpec{Filters: []eventingv1.SubscriptionsAPIFilter{{Not: &spec.Filters[0]}}})
			if nerr != nil {
				t.Fatalf("the negation of a valid filter %+v fails: %v", spec.Filters[0], nerr)
			}
			for _, ev := range events {
				got := flt.Match(ev)
				if again := flt.Match(ev); again != got {
					t.Fatalf("%+v matched %t, then %t", spec.Filters[0], got, again)
				}
				if neg := not.Match(ev); neg == got {
					t.Fatalf("%+v matched %t and its negation too", spec.Filters[0], got)
				}
			}
		}
	})
}

// emptyEvent is an event with only its required attributes.
func emptyEvent() *cloudevents.Event {
	ev := cloudevents.NewEvent()
	ev.SetID("1")
	ev.SetSource("s")
	ev.SetType("t")
	return &ev
}
