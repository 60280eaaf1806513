package version_test

import (
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/flintevents/flint/pkg/version"
)

func TestFromBuildInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mod     debug.Module
		want    string // Info.String()
		release bool
		sum     string
	}{
		{"go install of a release", debug.Module{Path: version.Module, Version: "v0.3.1", Sum: "h1:abc="},
			"v0.3.1 (release)", true, "h1:abc="},
		{"a commit, VCS-stamped", debug.Module{Path: version.Module, Version: "v0.0.0-20261207170920-800d66f7b483"},
			"v0.0.0-20261207170920-800d66f7b483 (development build of commit 800d66f7b483)", false, ""},
		{"a commit after a tag, with changes", debug.Module{Path: version.Module, Version: "v0.3.2-0.20261207170920-800d66f7b483+dirty", Sum: "h1:abc="},
			"v0.3.2-0.20261207170920-800d66f7b483 (development build of commit 800d66f7b483, with uncommitted changes)", false, ""},
		{"go build without VCS information", debug.Module{Path: version.Module, Version: "(devel)"},
			"devel (no module version", false, ""},
		{"no version at all", debug.Module{Path: version.Module},
			"devel (no module version", false, ""},
		{"not a module version", debug.Module{Path: version.Module, Version: "latest"},
			"devel (no module version", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			info := version.FromBuildInfo(tc.mod)
			if got := info.String(); !strings.HasPrefix(got, tc.want) {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if info.Release() != tc.release {
				t.Errorf("Release() = %v, want %v", info.Release(), tc.release)
			}
			if info.Sum != tc.sum {
				t.Errorf("Sum = %q, want %q (a changed work tree's checksum is not its version's)", info.Sum, tc.sum)
			}
		})
	}
}

func TestGoSumLines(t *testing.T) {
	t.Parallel()
	info := version.Info{Version: "v0.3.1", Sum: "h1:zip=", GoModSum: "h1:mod="}
	want := []string{
		"github.com/flintevents/flint v0.3.1 h1:zip=",
		"github.com/flintevents/flint v0.3.1/go.mod h1:mod=",
	}
	if got := info.GoSumLines(); !slices.Equal(got, want) {
		t.Errorf("GoSumLines() = %q, want %q", got, want)
	}
	for _, partial := range []version.Info{{Version: "v0.3.1", Sum: "h1:zip="}, {Sum: "h1:zip=", GoModSum: "h1:mod="}} {
		if got := partial.GoSumLines(); got != nil {
			t.Errorf("%+v: GoSumLines() = %q, want none without a version and both checksums", partial, got)
		}
	}
}
