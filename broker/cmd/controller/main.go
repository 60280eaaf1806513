// Command controller runs flint's Knative broker controller: it reconciles Brokers of
// class flint-jetstream and their Triggers against a NATS JetStream.
package main

import (
	"errors"
	"flag"
	"os"

	"knative.dev/pkg/signals"

	"github.com/flintevents/flint/broker/controller"
)

func main() {
	err := controller.Main(signals.NewContext(), os.Args[1:], os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		os.Stderr.WriteString("controller: " + err.Error() + "\n")
		os.Exit(1)
	}
}
