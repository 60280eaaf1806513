package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/flintevents/flint/pkg/manifest"
)

// loadManifests reads, defaults and validates the manifests at paths ("-" is
// in); unknown fields are set.Warnings. An unreadable input is reported as a
// problem of that input.
func loadManifests(ctx context.Context, paths []string, in io.Reader) (*manifest.Set, manifest.Problems) {
	return loadWith(ctx, manifest.Loader{Stdin: in}, paths)
}

// loadWith is loadManifests with l's options (Strict: unknown fields are
// problems).
func loadWith(ctx context.Context, l manifest.Loader, paths []string) (*manifest.Set, manifest.Problems) {
	set, problems, err := l.Check(ctx, paths...)
	if err != nil {
		return &manifest.Set{}, manifest.Problems{{File: "-f", Reason: err.Error()}}
	}
	return set, problems
}

// strictUsage is the help of the --strict flag.
const strictUsage = "treat unknown fields (which Argo's CRDs drop silently) as errors instead of warnings"

// warnUnknown prints as warnings what set names that is unknown: its
// unknown fields, and the EventSources its dependencies name that are not
// among those loaded (set.Unmatched).
func warnUnknown(w io.Writer, set *manifest.Set) {
	for _, p := range set.Warnings {
		fmt.Fprintln(w, "warning: "+p.String()+" (ignored, as Argo Events ignores it; --strict makes it an error)")
	}
	for _, p := range set.Unmatched {
		fmt.Fprintln(w, "warning: "+p.String())
	}
}

// noteSkipped prints the documents of other kinds that were skipped.
func noteSkipped(w io.Writer, set *manifest.Set) {
	for _, s := range set.Skipped {
		fmt.Fprintln(w, "note: "+s.Note())
	}
}

// warn prints types that are valid Argo YAML but not runnable by this build.
func warn(w io.Writer, notRunnable manifest.Problems) {
	for _, p := range notRunnable {
		p.Reason = "valid; " + p.Reason
		fmt.Fprintln(w, "warning: "+p.String())
	}
}
