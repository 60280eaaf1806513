// Command webhook runs the webhook event sources of one EventSource as a
// Knative Service, emitting CloudEvents to K_SINK until SIGTERM.
package main

import (
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/webhook"
)

func main() { host.Exec(webhook.Type) }
