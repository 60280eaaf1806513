// Package version says which flint a binary is: its module version, whether
// that is a release or a development build, and the checksums of flint's
// module at that version, so that a function project can require it.
package version

import (
	"fmt"
	"runtime/debug"
	"strings"

	"golang.org/x/mod/module"
)

// Module is flint's module path.
const Module = "github.com/flintevents/flint"

// Set at link time by `make build` (hack/ldflags.sh) with -X; never written at run time.
var (
	// stamped is the module version of the commit built: its release tag, or
	// a pseudo-version of the commit.
	stamped string
	// stampedSum and stampedGoModSum are the go.sum checksums (h1:…) of the
	// module zip and of the go.mod of flint at that version.
	stampedSum, stampedGoModSum string
	// stampedDirty is "true" when the work tree had uncommitted changes.
	stampedDirty string
)

// Info is what a build knows of its own version.
type Info struct {
	// Version is flint's module version, "" when the build has none (go run,
	// go test, or go build without VCS information).
	Version string
	// Sum and GoModSum are the go.sum checksums of flint's module zip and
	// go.mod at Version; "" when unknown.
	Sum, GoModSum string
	// Dirty is true when the binary was built from a work tree with
	// uncommitted changes, which Version does not hold.
	Dirty bool
}

// Get returns what this binary knows of its version: the one stamped by
// `make build`, else the one the go command recorded (`go install
// github.com/flintevents/flint@v…`, or a build with VCS stamping).
func Get() Info {
	if stamped != "" {
		return Info{Version: stamped, Sum: stampedSum, GoModSum: stampedGoModSum, Dirty: stampedDirty == "true"}
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Path != Module {
		return Info{}
	}
	return FromBuildInfo(bi.Main)
}

// FromBuildInfo reads the version the go command recorded of flint's module:
// a version with "+dirty" is a build of a changed work tree.
func FromBuildInfo(m debug.Module) Info {
	v, dirty := strings.CutSuffix(m.Version, "+dirty")
	if v == "" || v == "(devel)" || !isVersion(v) {
		return Info{}
	}
	info := Info{Version: v, Dirty: dirty}
	if !dirty {
		info.Sum = m.Sum
	}
	return info
}

// isVersion reports whether v is a canonical module version.
func isVersion(v string) bool {
	return module.Check(Module, v) == nil
}

// Release reports whether the version is a release, not a pseudo-version of
// a commit.
func (i Info) Release() bool {
	return i.Version != "" && !module.IsPseudoVersion(i.Version)
}

// Known reports whether the build has a module version at all.
func (i Info) Known() bool { return i.Version != "" }

// String describes the version for `flint version`: the version and which
// kind of build it is.
func (i Info) String() string {
	switch {
	case !i.Known():
		return "devel (no module version: build with `make build`, or go install " + Module + "@<version>)"
	case i.Release():
		return i.Version + " (release)"
	}
	desc := i.Version + " (development build"
	if rev, err := module.PseudoVersionRev(i.Version); err == nil {
		desc += " of commit " + rev
	}
	if i.Dirty {
		desc += ", with uncommitted changes"
	}
	return desc + ")"
}

// GoSumLines are the go.sum lines of flint's module at the version, none
// when a checksum is unknown.
func (i Info) GoSumLines() []string {
	if !i.Known() || i.Sum == "" || i.GoModSum == "" {
		return nil
	}
	return []string{
		fmt.Sprintf("%s %s %s", Module, i.Version, i.Sum),
		fmt.Sprintf("%s %s/go.mod %s", Module, i.Version, i.GoModSum),
	}
}
