package wire

import (
	"strconv"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// TTLExtension is the Knative broker hop counter that protects against reply loops.
const TTLExtension = "knativebrokerttl"

// DefaultTTL is the hop budget of an event that arrives without TTLExtension,
// as Knative's MAX_TTL default.
const DefaultTTL int32 = 255

// TTL returns the event's hop budget and whether it carries a readable one.
func TTL(ev *cloudevents.Event) (int32, bool) {
	v, ok := Extensions(ev)[TTLExtension]
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case int32:
		return x, true
	case string:
		n, err := strconv.ParseInt(x, 10, 32)
		if err != nil {
			return 0, false
		}
		return int32(n), true
	}
	return 0, false
}

// SetTTL stores the event's hop budget.
func SetTTL(ev *cloudevents.Event, ttl int32) {
	ev.SetExtension(TTLExtension, ttl)
}

// RemoveTTL strips the hop budget before the event leaves the broker.
func RemoveTTL(ev *cloudevents.Event) {
	if _, ok := Extensions(ev)[TTLExtension]; ok {
		_ = ev.Context.SetExtension(TTLExtension, nil)
	}
}

// NextHop returns the budget an event entering the broker gets: def when it carries none
// (or an unreadable one), else its own minus one. ok is false when the budget is spent.
func NextHop(ev *cloudevents.Event, def int32) (ttl int32, ok bool) {
	ttl, has := TTL(ev)
	if !has {
		return def, def > 0
	}
	ttl--
	return ttl, ttl > 0
}
