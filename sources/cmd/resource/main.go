// Command resource runs the resource event sources of one EventSource as a
// Knative Service, watching the cluster it runs in (or $KUBECONFIG's) and
// emitting CloudEvents to K_SINK until SIGTERM.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/resource"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := host.Main(ctx, resource.Type, os.Args[1:], os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "resource:", err)
		os.Exit(1)
	}
}
