// Command webhook runs the webhook event sources of one EventSource as a
// Knative Service, emitting CloudEvents to K_SINK until SIGTERM.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/flintevents/flint/sources/host"
	"github.com/flintevents/flint/sources/webhook"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := host.Main(ctx, webhook.Type, os.Args[1:], os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
}
