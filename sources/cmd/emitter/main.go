// Command emitter runs the emitter event sources of one EventSource as a
// Knative Service, subscribing to each entry's channel of its emitter broker
// and emitting CloudEvents to K_SINK until SIGTERM.
package main

import (
	"github.com/flintevents/flint/sources/emitter"
	"github.com/flintevents/flint/sources/host"
)

func main() { host.Exec(emitter.Type) }
