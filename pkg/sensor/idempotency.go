package sensor

import (
	"sort"
	"strings"

	"github.com/flintevents/flint/pkg/event"
)

// idempotencyKey is stable across redeliveries of the same events:
// sensor/trigger/the sorted dependency:event-id pairs.
func idempotencyKey(sensor, trigger string, events map[string]*event.Event) string {
	if len(events) == 1 {
		for d, ev := range events {
			return sensor + "/" + trigger + "/" + d + ":" + ev.Context.ID
		}
	}
	return sensor + "/" + trigger + "/" + strings.Join(eventIDs(events), ",")
}

// eventIDs lists the events as sorted dependency:event-id pairs.
func eventIDs(events map[string]*event.Event) []string {
	ids := make([]string, 0, len(events))
	for d, ev := range events {
		ids = append(ids, d+":"+ev.Context.ID)
	}
	sort.Strings(ids)
	return ids
}
