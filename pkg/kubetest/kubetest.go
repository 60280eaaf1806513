// Package kubetest runs a real etcd and kube-apiserver on loopback for tests,
// one pair per test binary, from the binaries hack/testenv.sh builds.
//
// A package whose tests use it runs them through Main (or Run):
//
//	func TestMain(m *testing.M) { kubetest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		env := kubetest.Start(t)
//		ns := env.Namespace(t)
//		...
//	}
//
// When the binaries are absent a test skips, saying how to build them; with
// CI=true it fails instead.
package kubetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/flintevents/flint/pkg/kube"
)

// Version is the Kubernetes version of the API server the tests run against.
const Version = "v1.35.8"

// DirEnv names the environment variable that overrides where the binaries
// are looked up; hack/testenv.sh builds into the same place.
const DirEnv = "FLINT_TESTENV_DIR"

// startTimeout bounds process start to a ready API server.
const startTimeout = 60 * time.Second

// Env is a running etcd + kube-apiserver on loopback, shared by the tests of
// one test binary. Its fields are shared: copy Config with rest.CopyConfig
// before changing it.
type Env struct {
	// Config reaches the API server with a bearer token of a user in
	// system:masters.
	Config *rest.Config
	// Clients are built from Config with kube.New.
	Clients *kube.Clients

	servers *servers
}

// process holds the one Env of this test binary. It is package state by
// necessity: every test of the binary shares the same API server.
var process struct {
	once    sync.Once
	managed bool // set by Main before any test runs
	env     *Env
	skip    string // binaries absent: why, and how to build them
	err     error  // binaries present but the servers did not start
}

// Main runs the tests of m and then stops the API server if one was started.
// Call it from TestMain of every package that uses Start; it exits the
// process with the tests' exit code.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run is Main for a TestMain with its own setup and teardown: it runs the
// tests of m, stops the API server if one was started, and returns the
// tests' exit code.
func Run(m *testing.M) int {
	process.managed = true
	code := m.Run()
	if process.env != nil {
		process.env.servers.stop()
	}
	return code
}

// Start returns the API server of this test binary, starting it on the first
// call. When the binaries are absent it skips t, or fails it when CI=true; a
// server that does not come up fails t.
func Start(t testing.TB) *Env {
	t.Helper()
	if !process.managed {
		t.Fatal("kubetest: call kubetest.Main(m) (or kubetest.Run) from TestMain so the API server stops when the tests end")
	}
	process.once.Do(func() {
		dir, missing := binaries()
		if missing != "" {
			process.skip = missing
			return
		}
		began := time.Now()
		env, err := start(dir)
		if err != nil {
			process.err = err
			return
		}
		process.env = env
		t.Logf("kubetest: kube-apiserver %s ready at %s in %s", Version, env.Config.Host, time.Since(began).Round(time.Millisecond))
	})
	switch {
	case process.skip != "":
		if os.Getenv("CI") == "true" {
			t.Fatal(process.skip)
		}
		t.Skip(process.skip)
	case process.err != nil:
		t.Fatal(process.err)
	}
	return process.env
}

// Dir is where the etcd and kube-apiserver binaries are looked up:
// $FLINT_TESTENV_DIR, else the user cache directory's flint/testenv/k8s-<Version>.
func Dir() string {
	if dir := os.Getenv(DirEnv); dir != "" {
		return dir
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = filepath.Join(os.TempDir(), "flint-cache")
	}
	return filepath.Join(cache, "flint", "testenv", "k8s-"+Version)
}

// binaries returns the directory holding both binaries, or why it cannot.
func binaries() (dir, missing string) {
	dir = Dir()
	for _, name := range []string{"etcd", "kube-apiserver"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || info.IsDir() || info.Mode().Perm()&0o111 == 0 {
			return "", fmt.Sprintf("kubetest: %s not found in %s; build etcd and kube-apiserver once with `bash hack/testenv.sh` (or `make deps`) from the repository root, or set %s", name, dir, DirEnv)
		}
	}
	return dir, ""
}

// Namespace creates a fresh namespace for t and deletes it when t ends. Its
// name is derived from the test name.
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: namespacePrefix(t.Name())}}
	created, err := e.Clients.Core.Namespaces().Create(t.Context(), ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("kubetest: creating namespace: %v", err)
	}
	name := created.Name
	t.Cleanup(func() {
		// No namespace controller runs, so the namespace stays Terminating
		// with its objects; a later test never sees them under its own name.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Clients.Core.Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("kubetest: deleting namespace %s: %v", name, err)
		}
	})
	return name
}

var nonLabel = regexp.MustCompile(`[^a-z0-9]+`)

// namespacePrefix turns a test name into a DNS-1123 label prefix for
// GenerateName, leaving room for the generated suffix.
func namespacePrefix(test string) string {
	p := strings.Trim(nonLabel.ReplaceAllString(strings.ToLower(test), "-"), "-")
	if len(p) > 40 {
		p = strings.TrimRight(p[:40], "-")
	}
	if p == "" || p[0] < 'a' || p[0] > 'z' {
		p = "t-" + p
	}
	return strings.TrimRight(p, "-") + "-"
}

// Kubeconfig writes a kubeconfig file for this API server into a temporary
// directory of t and returns its path.
func (e *Env) Kubeconfig(t testing.TB) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["flint-test"] = &clientcmdapi.Cluster{
		Server:                   e.Config.Host,
		CertificateAuthorityData: e.Config.CAData,
	}
	cfg.AuthInfos["flint-test"] = &clientcmdapi.AuthInfo{Token: e.Config.BearerToken}
	cfg.Contexts["flint-test"] = &clientcmdapi.Context{Cluster: "flint-test", AuthInfo: "flint-test", Namespace: "default"}
	cfg.CurrentContext = "flint-test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatalf("kubetest: writing kubeconfig: %v", err)
	}
	return path
}
