// Command nats runs the nats event sources of one EventSource as a Knative
// Service, subscribing to their NATS subjects and emitting CloudEvents to
// K_SINK until SIGTERM.
package main

import (
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/nats"
)

func main() { host.Exec(nats.Type) }
