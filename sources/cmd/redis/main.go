// Command redis runs the redis event sources of one EventSource as a
// Knative Service, subscribing to their Redis pub/sub channels and emitting
// CloudEvents to K_SINK until SIGTERM.
package main

import (
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/redis"
)

func main() { host.Exec(redis.Type) }
