// Command broker runs flint's Knative broker data plane: the JetStream-backed ingress and
// the trigger dispatcher, configured from Broker and Trigger YAML.
package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/signal"
	"syscall"

	"github.com/flintevents/flint/broker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := broker.Main(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		os.Stderr.WriteString("broker: " + err.Error() + "\n")
		os.Exit(1)
	}
}
