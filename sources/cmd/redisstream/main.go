// Command redisStream runs the redisStream event sources of one EventSource
// as a Knative Service, reading its Redis streams through their consumer
// group and emitting CloudEvents to K_SINK until SIGTERM.
package main

import (
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/redisstream"
)

func main() { host.Exec(redisstream.Type) }
