package wire

import (
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"
)

// Extensions returns the event's extensions for reading. Unlike Event.Extensions it does
// not copy a 1.0 event's map, which matters on the per-event path; callers must not
// modify the result.
func Extensions(ev *cloudevents.Event) map[string]any {
	if ec, ok := ev.Context.(*event.EventContextV1); ok {
		return ec.Extensions
	}
	return ev.Extensions()
}
