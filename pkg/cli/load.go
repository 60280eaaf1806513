package cli

import (
	"context"
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
