package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/manifest"
	_ "github.com/flintevents/flint/sources/builtin"  // every event source type
	_ "github.com/flintevents/flint/triggers/builtin" // every trigger type
)

func newValidateCommand(streams IO) *cobra.Command {
	var (
		files  []string
		opts   dev.Options
		strict bool
	)
	cmd := &cobra.Command{
		Use:   "validate -f PATH...",
		Short: "Decode and validate Argo Events and Knative YAML",
		Long: "validate reads EventSource, Sensor, Broker and Trigger documents (files, directories, - for stdin), " +
			"decodes them strictly, validates them and builds every event source and sensor exactly as `flint dev` " +
			"does at start, so that a set validate accepts is a set dev starts. It prints `ok <kind>/<name>` per object, " +
			"or `<file>[#doc]: <field path>: <reason>` per problem and exits 1. A source or trigger type this build " +
			"cannot run yet is valid Argo YAML: it is printed as a warning and validate exits 0. So is an unknown field " +
			"(Argo's CRDs drop them), with the field that was probably meant; --strict makes it a problem. Documents " +
			"of other kinds (WorkflowTemplate, EventBus, ConfigMap) are skipped with a note.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return fmt.Errorf("-f: at least one file, directory or - is required")
			}
			set, problems := loadWith(cmd.Context(), manifest.Loader{Stdin: streams.In, Strict: strict}, files)
			errs, notRunnable := dev.Validate(cmd.Context(), set, problems, opts)
			problems = append(problems, errs...)
			problems.Sort()
			for _, p := range problems {
				fmt.Fprintln(streams.Out, p.String())
			}
			warnUnknown(streams.Out, set)
			warn(streams.Out, notRunnable)
			noteSkipped(streams.Out, set)
			bad := dev.Locations(problems)
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
	f := cmd.Flags()
	f.StringArrayVarP(&files, "filename", "f", nil, "file, directory or - (stdin) to read; repeatable")
	f.StringVar(&opts.Kubeconfig, "kubeconfig", "", "kubeconfig of the cluster, as flint dev reads it (default $KUBECONFIG)")
	f.StringVar(&opts.SecretsDir, "secrets-dir", "", "directory of <secret>/<key> files for secret references, as flint dev reads them")
	f.BoolVar(&strict, "strict", false, strictUsage)
	return cmd
}
