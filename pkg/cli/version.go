package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/flintevents/flint/pkg/version"
)

// Version describes this build of flint: its module version and whether it
// is a release or a development build of a commit.
func Version() string { return version.Get().String() }

func newVersionCommand(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the flint version",
		Long: "version prints flint's module version and whether it is a release or a development build of a commit " +
			"(a pseudo-version); the function projects of `flint compile` require flint's module at that version.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(streams.Out, "flint %s %s/%s %s\n", Version(), runtime.GOOS, runtime.GOARCH, runtime.Version())
			return err
		},
	}
}
