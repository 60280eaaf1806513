package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/pkg/version"
	"github.com/flintevents/flint/triggers"
)

// functionSetup is how compile's function projects reach flint, and what a
// user must know of it once they are written.
type functionSetup struct {
	opts compile.FunctionOptions
	// notes are printed after the projects are written.
	notes []string
}

// functionOptions are how compile's function projects reach flint: its
// module at this binary's version, with this build's requirements and
// checksums (goSum is flint's go.sum); with a checkout (--flint-source), a
// replace to it as well. A build without a module version, or without the
// checksums of its module, writes projects that need one more step, which
// the notes name.
func functionOptions(flintSource string, goSum []byte) (functionSetup, error) {
	info := version.Get()
	opts := compile.FunctionOptions{Requires: buildRequires(), GoSum: goSum}
	if flintSource != "" {
		o, err := compile.CheckoutOptions(flintSource)
		if err != nil {
			return functionSetup{}, fmt.Errorf("--flint-source: %w", err)
		}
		opts = o
	}
	opts.Triggers = triggers.Lookup
	var notes []string
	if !info.Known() {
		notes = append(notes, fmt.Sprintf("warning: this flint has no module version (%s): the functions require "+
			"%s v0.0.0, which no module proxy serves; `make build` stamps one", info, version.Module))
		return functionSetup{opts: opts, notes: notes}, nil
	}
	opts.FlintVersion, opts.FlintSums = info.Version, info.GoSumLines()
	if info.Dirty {
		notes = append(notes, fmt.Sprintf("warning: this flint was built with uncommitted changes: the functions require "+
			"%s %s, the commit without them", version.Module, info.Version))
	}
	if len(opts.FlintSums) == 0 {
		notes = append(notes, fmt.Sprintf("note: this flint does not know the checksums of %s %s: run `go mod tidy` "+
			"in each %s/<function> before `kn func deploy`", version.Module, info.Version, compile.FunctionsDir))
	}
	return functionSetup{opts: opts, notes: notes}, nil
}

// buildRequires are the modules this build of flint was linked with, the
// requirements of the projects when no checkout is given.
func buildRequires() []compile.Module {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	var out []compile.Module
	for _, d := range bi.Deps {
		if d.Replace == nil && d.Path != compile.FlintModule {
			out = append(out, compile.Module{Path: d.Path, Version: d.Version, Indirect: true})
		}
	}
	return out
}
