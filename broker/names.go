package broker

import (
	"strings"

	"github.com/flintevents/flint/broker/internal/bus"
)

// IsTriggerConsumer reports whether a consumer of a broker stream is a trigger's or
// its retry lane's, whose pending events are undelivered ones; the stream's other
// consumer, the keeper, holds only a marker.
func IsTriggerConsumer(name string) bool {
	return strings.HasPrefix(name, bus.ConsumerPrefix)
}
