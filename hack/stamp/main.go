// Command stamp prints the -ldflags that stamp flint's version into a build
// (package pkg/version): the module version of HEAD (its release tag, or a
// pseudo-version of the commit), whether the work tree has uncommitted
// changes, and the go.sum checksums of the module at that version, computed
// from the commit as the go command and a module proxy compute them. Outside
// a git work tree it prints nothing, and the build has no version.
//
// Usage: go run ./hack/stamp [-dir DIR]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"
)

const (
	modulePath = "github.com/flintevents/flint"
	versionPkg = modulePath + "/pkg/version"
)

func main() {
	dir := flag.String("dir", ".", "the flint work tree")
	flag.Parse()
	flags, err := stamp(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stamp:", err)
		os.Exit(1)
	}
	fmt.Println(flags)
}

// stamp returns the -X flags for the work tree at dir; "" outside git.
func stamp(dir string) (string, error) {
	if _, err := git(dir, "rev-parse", "--verify", "-q", "HEAD"); err != nil {
		return "", nil
	}
	version, err := moduleVersion(dir)
	if err != nil {
		return "", err
	}
	sum, err := zipSum(dir, version)
	if err != nil {
		return "", err
	}
	goMod, err := git(dir, "show", "HEAD:go.mod")
	if err != nil {
		return "", err
	}
	modSum, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(goMod)), nil
	})
	if err != nil {
		return "", err
	}
	status, err := git(dir, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return "", err
	}
	flags := []string{
		"-X " + versionPkg + ".stamped=" + version,
		"-X " + versionPkg + ".stampedSum=" + sum,
		"-X " + versionPkg + ".stampedGoModSum=" + modSum,
	}
	if len(bytes.TrimSpace(status)) > 0 {
		flags = append(flags, "-X "+versionPkg+".stampedDirty=true")
	}
	return strings.Join(flags, " "), nil
}

// moduleVersion is HEAD's release tag when it has one, else the
// pseudo-version of HEAD after the newest release tag it descends from.
func moduleVersion(dir string) (string, error) {
	if out, err := git(dir, "tag", "--points-at", "HEAD", "--list", "v*"); err == nil {
		for _, tag := range strings.Fields(string(out)) {
			if semver.IsValid(tag) && semver.Build(tag) == "" && (semver.Major(tag) == "v0" || semver.Major(tag) == "v1") {
				return tag, nil
			}
		}
	}
	older := ""
	if out, err := git(dir, "describe", "--tags", "--abbrev=0", "--match", "v*", "HEAD"); err == nil {
		if tag := strings.TrimSpace(string(out)); semver.IsValid(tag) {
			older = tag
		}
	}
	out, err := git(dir, "log", "-1", "--format=%ct %H", "HEAD")
	if err != nil {
		return "", err
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 {
		return "", fmt.Errorf("git log: unexpected output %q", out)
	}
	secs, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil {
		return "", fmt.Errorf("git log: commit time %q: %w", fields[0], err)
	}
	return module.PseudoVersion("", older, time.Unix(secs, 0).UTC(), fields[1][:12]), nil
}

// zipSum is the go.sum checksum of the module zip of HEAD at version.
func zipSum(dir, version string) (string, error) {
	root, err := git(dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "flint-module-*.zip")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	mv := module.Version{Path: modulePath, Version: version}
	if err := zip.CreateFromVCS(f, mv, filepath.Clean(strings.TrimSpace(string(root))), "HEAD", ""); err != nil {
		return "", fmt.Errorf("zipping the module at HEAD: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return dirhash.HashZip(f.Name(), dirhash.Hash1)
}

// git runs git in dir and returns its standard output.
func git(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
