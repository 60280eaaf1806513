// Command kafka runs the kafka event sources of one EventSource as a Knative
// Service, reading their topics and emitting CloudEvents to K_SINK until
// SIGTERM.
package main

import (
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/kafka"
)

func main() { host.Exec(kafka.Type) }
