// Command amqp runs the amqp event sources of one EventSource as a Knative
// Service, consuming their RabbitMQ queues and emitting CloudEvents to
// K_SINK until SIGTERM.
package main

import (
	"github.com/flintevents/flint/sources/amqp"
	"github.com/flintevents/flint/sources/host"
)

func main() { host.Exec(amqp.Type) }
