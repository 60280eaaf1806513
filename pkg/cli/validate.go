package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newValidateCommand(streams IO) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "validate -f PATH...",
		Short: "Decode and validate Argo Events and Knative YAML",
		Long: "validate reads EventSource, Sensor, Broker and Trigger documents (files, directories, - for stdin), " +
			"decodes them strictly and validates them. It prints `ok <kind>/<name>` per object, or " +
			"`<file>[#doc]: <field path>: <reason>` per problem and exits 1.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return fmt.Errorf("-f: at least one file, directory or - is required")
			}
			set, problems := loadManifests(cmd.Context(), files, streams.In)
			for _, p := range problems {
				fmt.Fprintln(streams.Out, p.String())
			}
			bad := map[string]bool{}
			for _, p := range problems {
				bad[p.Location()] = true
			}
			for i := range set.Objects {
				o := &set.Objects[i]
				if bad[o.Origin.String()] {
					continue
				}
				fmt.Fprintf(streams.Out, "ok %s/%s\n", strings.ToLower(o.Kind), o.Name())
			}
			if len(problems) > 0 {
				return exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "file, directory or - (stdin) to read; repeatable")
	return cmd
}
