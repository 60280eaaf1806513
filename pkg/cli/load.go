package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/flintevents/flint/pkg/manifest"
)

// loadManifests reads, defaults and validates the manifests at paths ("-" is
// in). An unreadable input is reported as a problem of that input.
func loadManifests(ctx context.Context, paths []string, in io.Reader) (*manifest.Set, manifest.Problems) {
	set, problems, err := manifest.Loader{Stdin: in}.Check(ctx, paths...)
	if err != nil {
		return &manifest.Set{}, manifest.Problems{{File: "-f", Reason: err.Error()}}
	}
	return set, problems
}

// warn prints types that are valid Argo YAML but not runnable by this build.
func warn(w io.Writer, notRunnable manifest.Problems) {
	for _, p := range notRunnable {
		p.Reason = "valid; " + p.Reason
		fmt.Fprintln(w, "warning: "+p.String())
	}
}
