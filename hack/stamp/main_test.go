package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestStamp stamps a git work tree of flint's module: a tagged commit is its
// release, a later commit a pseudo-version after it, a change in the work
// tree is dirty, and the checksums are of the commit.
func TestStamp(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	write("go.mod", "module "+modulePath+"\n\ngo 1.26.0\n")
	write("flint.go", "package flint\n")
	git("add", ".")
	git("commit", "-q", "-m", "one")
	git("tag", "v0.3.1")

	release, err := stamp(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(release, ".stamped=v0.3.1 ") || strings.Contains(release, "Dirty") {
		t.Errorf("tagged commit: %s, want version v0.3.1, not dirty", release)
	}
	sums := regexp.MustCompile(`\.stampedSum=h1:\S+ .*\.stampedGoModSum=h1:\S+`)
	if !sums.MatchString(release) {
		t.Errorf("tagged commit: %s, want both checksums", release)
	}

	write("flint.go", "package flint\n\nconst X = 1\n")
	dirty, err := stamp(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dirty, ".stampedDirty=true") || sums.FindString(dirty) != sums.FindString(release) {
		t.Errorf("changed work tree: %s, want dirty with the commit's checksums", dirty)
	}

	git("commit", "-q", "-am", "two")
	dev, err := stamp(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`\.stamped=v0\.3\.2-0\.\d{14}-[0-9a-f]{12} `).MatchString(dev) {
		t.Errorf("commit after the tag: %s, want a pseudo-version after v0.3.1", dev)
	}
	if sums.FindString(dev) == sums.FindString(release) {
		t.Errorf("commit after the tag has the tagged commit's checksums: %s", dev)
	}

	if out, err := stamp(t.TempDir()); err != nil || out != "" {
		t.Errorf("outside git: %q, %v; want nothing", out, err)
	}
}
