package cli

import (
	"github.com/spf13/cobra"
)

func newBrokerCommand(streams IO) *cobra.Command {
	return &cobra.Command{Use: "broker", Hidden: true}
}
