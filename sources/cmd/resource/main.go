// Command resource runs the resource event sources of one EventSource as a
// Knative Service, watching the cluster it runs in (or $KUBECONFIG's) and
// emitting CloudEvents to K_SINK until SIGTERM.
package main

import (
	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/resource"
)

func main() { host.Exec(resource.Type) }
