// Command webhook runs the webhook event sources of one EventSource as a
// Knative Service, emitting CloudEvents to K_SINK until SIGTERM.
package main

import (
	"github.com/flintevents/flint/sources/webhook"
	"github.com/flintevents/flint/sources/host"
)

func main() { host.Exec(webhook.Type) }
