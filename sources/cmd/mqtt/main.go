// Command mqtt runs the mqtt event sources of one EventSource as a Knative
// Service: it subscribes to each entry's topic and emits CloudEvents to
// K_SINK until SIGTERM.
package main

import (
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/mqtt"
)

func main() { host.Exec(mqtt.Type) }
