package cli

import (
	"errors"
	"flag"

	"github.com/spf13/cobra"

	"github.com/flintevents/flint/broker"
)

func newBrokerCommand(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "broker --nats URL -f FILE...",
		Short: "Run the JetStream broker data plane (ingress and dispatcher) alone",
		Long: "broker runs the Knative broker data plane that `flint dev` embeds, as the broker image does: " +
			"the ingress (POST /<namespace>/<broker>) and one JetStream consumer per Trigger, " +
			"configured from Broker and Trigger YAML. Run `flint broker -h` for its flags.",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := broker.Main(cmd.Context(), args, streams.Err)
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		},
	}
}
