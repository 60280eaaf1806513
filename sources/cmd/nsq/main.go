// Command nsq runs the nsq event sources of one EventSource as a Knative
// Service, reading each entry's topic through its channel and emitting
// CloudEvents to K_SINK until SIGTERM.
package main

import (
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/nsq"
)

func main() { host.Exec(nsq.Type) }
