package cli

import (
	"flag"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/flintevents/flint/broker"
)

func newBrokerCommand(streams IO) *cobra.Command {
	var f broker.Flags
	cmd := &cobra.Command{
		Use:   "broker --nats URL -f FILE...",
		Short: "Run the JetStream broker data plane (ingress and dispatcher) alone",
		Long: "broker runs the Knative broker data plane that `flint dev` embeds, as the broker image does: " +
			"the ingress (POST /<namespace>/<broker>) and one JetStream consumer per Trigger, " +
			"configured from Broker and Trigger YAML, or with --cluster from the Brokers and Triggers of a cluster.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return broker.Run(cmd.Context(), f, streams.Err)
		},
	}
	// The flags are the broker image's own; -f is --filename here, as in
	// every other command.
	gofs := flag.NewFlagSet("broker", flag.ContinueOnError)
	f.Register(gofs)
	gofs.VisitAll(func(gf *flag.Flag) {
		pf := pflag.PFlagFromGoFlag(gf)
		if pf.Name == "f" {
			pf.Name, pf.Shorthand = "filename", "f"
		}
		if pf.DefValue == "0s" {
			// pflag omits a zero default from help, but knows "0s" as one
			// only for its own durations.
			pf.DefValue = "0"
		}
		cmd.Flags().AddFlag(pf)
	})
	return cmd
}
