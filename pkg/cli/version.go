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

// versionLine is what `flint version` and `flint --version` print: the
// version, the platform and the Go release, e.g. "flint v0.1.0 linux/amd64 go1.26.8".
func versionLine() string {
	return fmt.Sprintf("flint %s %s/%s %s", Version(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func newVersionCommand(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the flint version",
		Long: "version prints flint's module version and whether it is a release or a development build of a commit " +
			"(a pseudo-version); the function projects of `flint compile` require flint's module at that version.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(streams.Out, versionLine())
			return err
		},
	}
}
