// Command github runs the github event sources of one EventSource as a
// Knative Service, emitting CloudEvents to K_SINK until SIGTERM.
package main

import (
	"github.com/flintevents/flint/sources/github"
	"github.com/flintevents/flint/sources/host"
)

func main() { host.Exec(github.Type) }
