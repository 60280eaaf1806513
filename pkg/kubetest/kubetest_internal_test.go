package kubetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNamespacePrefix(t *testing.T) {
	t.Parallel()
	tests := []struct{ test, want string }{
		{"TestSimple", "testsimple-"},
		{"TestTrigger/create_a_Pod#01", "testtrigger-create-a-pod-01-"},
		{"Test_" + strings.Repeat("x", 60), "test-" + strings.Repeat("x", 35) + "-"},
		{"Tes" + strings.Repeat("_a", 30), "tes" + strings.Repeat("-a", 18) + "-"},
		{"9lives", "t-9lives-"},
		{"__", "t-"},
	}
	for _, tt := range tests {
		if got := namespacePrefix(tt.test); got != tt.want {
			t.Errorf("namespacePrefix(%q) = %q, want %q", tt.test, got, tt.want)
		}
	}
}

func TestBinariesMissingSaysHowToBuild(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(DirEnv, dir)
	if _, missing := binaries(); !strings.Contains(missing, "hack/testenv.sh") || !strings.Contains(missing, dir) {
		t.Errorf("message for absent binaries = %q, want the directory and how to build", missing)
	}
	for _, name := range []string{"etcd", "kube-apiserver"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got, missing := binaries(); got != dir || missing != "" {
		t.Errorf("binaries() = %q, %q; want %q found", got, missing, dir)
	}
}

func TestReadCRDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		files []string
		want  []string
	}{
		{[]string{"testdata/mixed.yaml"}, []string{"widgets.test.flint.dev"}},
		{[]string{"testdata"}, []string{"widgets.test.flint.dev"}},
		{[]string{"../../test/crds/argo-workflows.yaml"}, []string{
			"workflows.argoproj.io", "workflowtemplates.argoproj.io",
			"clusterworkflowtemplates.argoproj.io", "cronworkflows.argoproj.io",
		}},
	}
	for _, tt := range tests {
		crds, err := readCRDs(tt.files)
		if err != nil {
			t.Fatalf("readCRDs(%v): %v", tt.files, err)
		}
		var names []string
		for _, c := range crds {
			names = append(names, c.GetName())
		}
		if strings.Join(names, ",") != strings.Join(tt.want, ",") {
			t.Errorf("readCRDs(%v) = %v, want %v", tt.files, names, tt.want)
		}
	}
	if _, err := readCRDs([]string{"testdata/absent.yaml"}); err == nil {
		t.Error("readCRDs of an absent file: no error")
	}
}

func TestStartFailureShowsOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	scripts := map[string]string{
		"etcd":           "#!/bin/sh\nexec sleep 60\n",
		"kube-apiserver": "#!/bin/sh\necho 'Error: invalid flag --frobnicate' >&2\nexit 1\n",
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env, err := start(dir)
	if err == nil {
		env.servers.stop()
		t.Fatal("start with a failing kube-apiserver: no error")
	}
	for _, want := range []string{"kube-apiserver exited during start", "invalid flag --frobnicate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("start error lacks %q:\n%v", want, err)
		}
	}
}
