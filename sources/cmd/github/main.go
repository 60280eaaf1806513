// Command github runs the github event sources of one EventSource as a
// Knative Service, emitting CloudEvents to K_SINK until SIGTERM.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/flintevents/flint/sources/github"
	"github.com/flintevents/flint/sources/host"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := host.Main(ctx, github.Type, os.Args[1:], os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "github:", err)
		os.Exit(1)
	}
}
