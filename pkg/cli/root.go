// Package cli holds the flint commands; main.go only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// IO are the streams a command reads and writes.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// exitError carries a process exit code out of a command without printing usage.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Option hands the commands what only the flint binary's main knows.
type Option func(*options)

// options are what the Options set.
type options struct {
	// goSum is flint's go.sum, which compile writes into each function project.
	goSum []byte
}

// WithGoSum hands compile flint's go.sum, as main embeds it: the checksums
// of every module a function project needs besides flint's own.
func WithGoSum(sum []byte) Option { return func(o *options) { o.goSum = sum } }

// Main runs the flint command line and returns the process exit code. SIGINT
// and SIGTERM cancel the command's context.
func Main(args []string, in io.Reader, out, errOut io.Writer, opts ...Option) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := NewRootCommand(IO{In: in, Out: out, Err: errOut}, opts...)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintln(errOut, "flint:", err)
		return 1
	}
}

// NewRootCommand builds the `flint` command tree.
func NewRootCommand(streams IO, opts ...Option) *cobra.Command {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	root := &cobra.Command{
		Use:           "flint",
		Short:         "Run Argo Events EventSources and Sensors on Knative",
		Long:          "flint runs Argo Events YAML (argoproj.io/v1alpha1), unchanged, on Knative: event sources as scale-to-zero services, a NATS JetStream broker, sensors as functions. `flint dev` runs all of it in one process.",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Version gives the root command its --version flag, which prints
		// what `flint version` prints.
		Version: versionLine(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.AddCommand(
		newVersionCommand(streams),
		newValidateCommand(streams),
		newDevCommand(streams),
		newBrokerCommand(streams),
		newDLQCommand(streams),
		newCompileCommand(streams, o),
		newTestCommand(streams),
	)
	return root
}
