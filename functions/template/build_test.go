package template_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"

	"github.com/flintevents/flint/pkg/compile"
	"github.com/flintevents/flint/pkg/manifest"
	"github.com/flintevents/flint/triggers"
	_ "github.com/flintevents/flint/triggers/builtin"
)

// TestFunctionBuildsAsFuncBuildsIt compiles a Sensor's kn func project and
// builds it the way func's builders do: flint's module, this checkout, is
// served at a version of its own by a file-system module proxy ahead of the
// usual one; a wrapper module copies the project's requirements and none of
// its replaces, holds the project's go.sum and func's entry point, and is
// built with CGO_ENABLED=0 and -mod=readonly, so a missing checksum fails
// it. The project links the Sensor's trigger types and no other, client-go
// only when one acts on a cluster. The built http sensor is started, answers
// its readiness probe, and one CloudEvent makes it call its target.
func TestFunctionBuildsAsFuncBuildsIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function (about a minute): not in -short")
	}
	goCmd := goTool(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	version := module.PseudoVersion("", "", time.Now().UTC(), randomRev(t))
	proxy := t.TempDir()
	sums := serveCheckout(t, root, proxy, version)
	modCache := goEnv(t, goCmd, "GOMODCACHE")
	t.Cleanup(func() { removeFromModCache(t, modCache, version) })
	env := append(os.Environ(),
		"GOPROXY=file://"+filepath.ToSlash(proxy)+","+goEnv(t, goCmd, "GOPROXY"),
		"GONOSUMDB="+compile.FlintModule,
		"GOFLAGS=-mod=readonly -buildvcs=false",
		"CGO_ENABLED=0",
	)
	requires, goVersion := checkoutRequires(t, root)
	goSum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	opts := compile.FunctionOptions{FlintVersion: version, FlintSums: sums, GoSum: goSum, GoVersion: goVersion,
		Requires: requires, Triggers: triggers.Lookup}

	var (
		mu  sync.Mutex
		got []string
	)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+string(body))
		mu.Unlock()
	}))
	t.Cleanup(target.Close)

	tests := []struct {
		file           string
		linked, absent []string
		run            bool
	}{
		{file: "http-sensor.yaml", run: true,
			linked: []string{"triggers/http"},
			absent: []string{"triggers/k8s", "triggers/log", "triggers/awslambda", "triggers/argoworkflow", "k8s.io/client-go/rest", "knative.dev/eventing/pkg/apis/eventing/v1"}},
		{file: "k8s-sensor.yaml",
			linked: []string{"triggers/k8s", "k8s.io/client-go/rest"},
			absent: []string{"triggers/http", "triggers/argoworkflow"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			project := compileProject(t, tc.file, target.URL+"/greet", opts)
			if mod := string(project.Files["go.mod"]); strings.Contains(mod, "replace") ||
				!strings.Contains(mod, "require github.com/flintevents/flint "+version) {
				t.Fatalf("go.mod does not require flint %s alone, without replace:\n%s", version, mod)
			}
			wrapper := writeWrapper(t, project)
			deps := strings.Fields(goRun(t, goCmd, wrapper, env, "list", "-deps", "."))
			for _, want := range tc.linked {
				if !slices.ContainsFunc(deps, pathIs(want)) {
					t.Errorf("the function does not link %s", want)
				}
			}
			for _, unwanted := range tc.absent {
				if slices.ContainsFunc(deps, pathIs(unwanted)) {
					t.Errorf("the function links %s, which its Sensor does not use", unwanted)
				}
			}
			if !tc.run || t.Failed() {
				return
			}
			bin := filepath.Join(t.TempDir(), "function")
			goRun(t, goCmd, wrapper, env, "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
			if fi, err := os.Stat(bin); err == nil {
				t.Logf("function binary: %.1f MB", float64(fi.Size())/1e6)
			}
			addr := startFunction(t, bin)
			send(t, addr, `{"header":{},"body":{"name":"flint"}}`)
			mu.Lock()
			defer mu.Unlock()
			if want := []string{`POST /greet {"greeting":"flint"}`}; !slices.Equal(got, want) {
				t.Errorf("the target got %q, want %q", got, want)
			}
		})
	}
}

// pathIs matches an import path that is the flint package rel (e.g.
// "triggers/http") or, for another module's package, exactly rel.
func pathIs(rel string) func(string) bool {
	return func(p string) bool { return p == rel || p == compile.FlintModule+"/"+rel }
}

// goTool is the go command of the toolchain running the test.
func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no go command: %v", err)
	}
	return p
}

func goEnv(t *testing.T, goCmd, name string) string {
	t.Helper()
	out, err := exec.Command(goCmd, "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// goRun runs the go command in dir and returns its standard output.
func goRun(t *testing.T, goCmd, dir string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func randomRev(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// serveCheckout writes the checkout at root into the file-system module
// proxy dir as flint's module at version, and returns its go.sum lines.
func serveCheckout(t *testing.T, root, dir, version string) []string {
	t.Helper()
	at := filepath.Join(dir, filepath.FromSlash(compile.FlintModule), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	mv := module.Version{Path: compile.FlintModule, Version: version}
	zipPath := filepath.Join(at, version+".zip")
	f, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := modzip.Create(f, mv, checkoutFiles(t, root)); err != nil {
		t.Fatalf("zipping the checkout: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]string{"Version": version, "Time": time.Now().UTC().Format(time.RFC3339)})
	for name, data := range map[string][]byte{"list": []byte(version + "\n"), version + ".mod": goMod, version + ".info": info} {
		if err := os.WriteFile(filepath.Join(at, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	zipSum, err := dirhash.HashZip(zipPath, dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	modSum, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(goMod)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return []string{
		fmt.Sprintf("%s %s %s", compile.FlintModule, version, zipSum),
		fmt.Sprintf("%s %s/go.mod %s", compile.FlintModule, version, modSum),
	}
}

// checkoutFile is one file of the checkout, for the module zip.
type checkoutFile struct{ root, rel string }

func (f checkoutFile) Path() string { return f.rel }
func (f checkoutFile) Lstat() (os.FileInfo, error) {
	return os.Lstat(filepath.Join(f.root, filepath.FromSlash(f.rel)))
}
func (f checkoutFile) Open() (io.ReadCloser, error) {
	return os.Open(filepath.Join(f.root, filepath.FromSlash(f.rel)))
}

// checkoutFiles are the files of the work tree as git sees it (tracked or
// not ignored), without nested modules: what a commit of it would serve.
func checkoutFiles(t *testing.T, root string) []modzip.File {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("listing the checkout's files with git: %v", err)
	}
	names := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	var nested []string
	for _, n := range names {
		if path.Base(n) == "go.mod" && n != "go.mod" {
			nested = append(nested, path.Dir(n)+"/")
		}
	}
	var files []modzip.File
	for _, n := range names {
		if slices.ContainsFunc(nested, func(d string) bool { return strings.HasPrefix(n, d) }) {
			continue
		}
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(n)))
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the work tree, or a link
		}
		files = append(files, checkoutFile{root: root, rel: n})
	}
	return files
}

// removeFromModCache removes what the go command kept of flint at version,
// a version this test made up.
func removeFromModCache(t *testing.T, modCache, version string) {
	for _, p := range []string{
		filepath.Join(modCache, filepath.FromSlash(compile.FlintModule)+"@"+version),
		filepath.Join(modCache, "cache", "download", filepath.FromSlash(compile.FlintModule), "@v"),
	} {
		matches, _ := filepath.Glob(p)
		if strings.HasSuffix(p, "@v") {
			matches, _ = filepath.Glob(filepath.Join(p, version+".*"))
		}
		for _, m := range matches {
			_ = filepath.WalkDir(m, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					_ = os.Chmod(p, 0o755)
				}
				return nil
			})
			if err := os.RemoveAll(m); err != nil {
				t.Logf("cleaning the module cache: %v", err)
			}
		}
	}
}

// checkoutRequires are the requirements and go directive of the checkout's
// go.mod, as a binary built from it copies them into its projects.
func checkoutRequires(t *testing.T, root string) ([]compile.Module, string) {
	t.Helper()
	o, err := compile.CheckoutOptions(root)
	if err != nil {
		t.Fatal(err)
	}
	return o.Requires, o.GoVersion
}

// compileProject compiles the Sensor of testdata/file, whose http trigger
// calls target, into its kn func project.
func compileProject(t *testing.T, file, target string, opts compile.FunctionOptions) *compile.Project {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.ReplaceAll(raw, []byte("TARGET_URL"), []byte(target))
	set, problems, err := manifest.CheckReader(t.Context(), bytes.NewReader(raw), file)
	if err != nil || len(problems) > 0 {
		t.Fatalf("loading %s: %v %v", file, err, problems)
	}
	g, err := compile.Compile(compile.Input{EventSources: set.EventSources(), Sensors: set.Sensors()},
		compile.Options{SensorRef: compile.ServiceRef})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Sensors) != 1 {
		t.Fatalf("%s compiles to %d sensors, want 1", file, len(g.Sensors))
	}
	p, err := compile.Function(g.Sensors[0], set.EventSources(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeWrapper writes the project and, beside it, the wrapper module func's
// builders make of it: the project's requirements copied, its replaces
// dropped, its go.sum, and func's entry point (testdata/wrapper). It returns
// the wrapper's directory.
func writeWrapper(t *testing.T, p *compile.Project) string {
	t.Helper()
	dir := t.TempDir()
	fn := filepath.Join(dir, "f")
	wrapper := filepath.Join(dir, "build")
	for name, data := range p.Files {
		writeFile(t, filepath.Join(fn, name), data)
	}
	var mod strings.Builder
	mod.WriteString("module s\n\ngo 1.26.0\n\nrequire function v0.0.0-00010101000000-000000000000\n\nrequire (\n")
	for _, r := range requireLines(t, p.Files["go.mod"]) {
		mod.WriteString("\t" + r + "\n")
	}
	mod.WriteString(")\n\nreplace function => ../f\n")
	writeFile(t, filepath.Join(wrapper, "go.mod"), []byte(mod.String()))
	writeFile(t, filepath.Join(wrapper, "go.sum"), p.Files["go.sum"])
	main, err := os.ReadFile(filepath.Join("testdata", "wrapper", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(wrapper, "main.go"), main)
	return wrapper
}

// requireLines are the "path version" requirements of a go.mod.
func requireLines(t *testing.T, goMod []byte) []string {
	t.Helper()
	var out []string
	block := false
	for _, line := range strings.Split(string(goMod), "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case block && f[0] == ")":
			block = false
		case block && len(f) == 2:
			out = append(out, f[0]+" "+f[1])
		case f[0] == "require" && len(f) == 2 && f[1] == "(":
			block = true
		case f[0] == "require" && len(f) == 3:
			out = append(out, f[1]+" "+f[2])
		}
	}
	if len(out) == 0 {
		t.Fatalf("go.mod requires nothing:\n%s", goMod)
	}
	return out
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// startFunction runs the built function on a free loopback port and waits
// for its readiness probe; it returns the function's address.
func startFunction(t *testing.T, bin string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "LISTEN_ADDRESS="+addr, "METRICS_PORT=off", "FLINT_NATS_URL=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("function output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/health/readiness")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		select {
		case err := <-done:
			t.Fatalf("the function exited before it was ready: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the function is not ready after 30 s (last: %v)\n%s", errors.Join(err), out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// send posts one binary-mode CloudEvent of the webhook source to the
// function and requires a 2xx.
func send(t *testing.T, addr, data string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+"/", strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"Ce-Specversion": "1.0", "Ce-Id": "build-test-1", "Ce-Source": "webhook",
		"Ce-Subject": "example", "Ce-Type": "webhook", "Content-Type": "application/json"} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("the function answered %d %s, want 2xx", resp.StatusCode, body)
	}
}
