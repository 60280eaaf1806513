package layering_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the import path of flint's module.
const module = "github.com/flintevents/flint"

// Packages that only sensors need: the image families that do not run sensors must
// not link them. A prefix stands for the package and every package under it.
var (
	brokerForbidden = []string{
		"github.com/robfig/cron",
		"github.com/yuin/gopher-lua",
		"github.com/itchyny/gojq",
		"github.com/Masterminds/sprig",
		"github.com/expr-lang/expr",
		module + "/pkg/sensor",
		module + "/triggers",
	}
	// Source images evaluate the EventSource filter.expression (expr-lang with
	// sprig), but nothing of the sensor.
	sourceForbidden = []string{
		"knative.dev/eventing",
		"github.com/yuin/gopher-lua",
		"github.com/itchyny/gojq",
		"github.com/robfig/cron",
		module + "/pkg/sensor",
		module + "/triggers",
	}
	// Push-source images never read a cluster: without client-go they start
	// faster from zero (a smaller image to pull). Only the types registered
	// with sources.NeedsCluster link it.
	pushSourceForbidden = append(slices.Clone(sourceForbidden), "k8s.io/client-go")
)

// rule is what the image mains at or under one import path may not link.
type rule struct {
	family    string
	under     string // the family's main, or the directory of its mains
	forbidden []string
}

// rules are matched by their longest under: the resource image's own rule
// overrides that of the other source images.
var rules = []rule{
	{family: "broker image", under: module + "/broker/cmd", forbidden: brokerForbidden},
	{family: "push source image", under: module + "/sources/cmd", forbidden: pushSourceForbidden},
	{family: "cluster source image", under: module + "/sources/cmd/resource", forbidden: sourceForbidden},
}

// required are image mains the rules must find, so a move or rename cannot make the
// check pass by checking nothing.
var required = []string{
	module + "/broker/cmd/broker",
	module + "/broker/cmd/controller",
	module + "/sources/cmd/webhook",
	module + "/sources/cmd/github",
	module + "/sources/cmd/resource",
}

// ruleFor returns the rule with the longest under covering image.
func ruleFor(image string) (rule, bool) {
	var (
		best  rule
		found bool
	)
	for _, r := range rules {
		if covered(image, []string{r.under}) && len(r.under) > len(best.under) {
			best, found = r, true
		}
	}
	return best, found
}

// TestImageDependencies lists every main package of the module, and for each image
// main (those under a cmd/ directory) fails when it links a package its family must
// not, naming one import chain from the main to it.
func TestImageDependencies(t *testing.T) {
	t.Parallel()
	goCmd := goCommand(t)
	mains := listMains(t, goCmd)
	var images []string
	for _, m := range mains {
		if strings.Contains(m, "/cmd/") {
			images = append(images, m)
		} else {
			t.Logf("%s: not an image main, not checked", m)
		}
	}
	for _, r := range required {
		if !slices.Contains(images, r) {
			t.Errorf("image main %s not found among %v", r, images)
		}
	}

	// The CLI links the whole sensor; checking it against the broker rule shows the
	// check finds what it looks for.
	cli := module
	g := loadGraph(t, goCmd, append(slices.Clone(images), cli)...)
	if v := violations(g, cli, brokerForbidden); len(v) == 0 {
		t.Errorf("the check found none of %v linked by %s, which runs sensors: it cannot be trusted", brokerForbidden, cli)
	}
	// Likewise the resource image, which watches a cluster, links client-go.
	resource := module + "/sources/cmd/resource"
	if v := violations(g, resource, pushSourceForbidden); len(v) == 0 {
		t.Errorf("the check found none of %v linked by %s, which watches a cluster: it cannot be trusted", pushSourceForbidden, resource)
	}

	for _, image := range images {
		t.Run(strings.TrimPrefix(image, module+"/"), func(t *testing.T) {
			t.Parallel()
			r, ok := ruleFor(image)
			if !ok {
				t.Fatalf("no layering rule for image main %s: add one to rules", image)
			}
			for _, v := range violations(g, image, r.forbidden) {
				t.Errorf("%s (%s) links %s:\n\t%s", image, r.family, v[len(v)-1], strings.Join(v, "\n\t-> "))
			}
		})
	}
}

// goCommand is the go command, skipping the test loudly when there is none (failing
// it under CI=true).
func goCommand(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("go")
	if err != nil {
		msg := fmt.Sprintf("LAYERING NOT CHECKED: no go command on PATH (%v)", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// goList runs go list with args for the platform the images are built for.
func goList(t *testing.T, goCmd string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), goCmd, append([]string{"list"}, args...)...)
	cmd.Env = append(os.Environ(), "GOOS=linux", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// listMains is the import path of every main package of the module.
func listMains(t *testing.T, goCmd string) []string {
	t.Helper()
	out := goList(t, goCmd, "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, module+"/...")
	return strings.Fields(string(out))
}

// graph maps each package to the packages it imports.
type graph map[string][]string

// loadGraph is the import graph of pkgs and everything they link.
func loadGraph(t *testing.T, goCmd string, pkgs ...string) graph {
	t.Helper()
	out := goList(t, goCmd, append([]string{"-deps", "-json=ImportPath,Imports"}, pkgs...)...)
	g := graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list -json: %v", err)
		}
		g[p.ImportPath] = p.Imports
	}
	return g
}

// violations returns, for each package that main links and forbidden covers, the
// shortest import chain from main to it (main first).
func violations(g graph, main string, forbidden []string) [][]string {
	parent := map[string]string{main: ""}
	queue := []string{main}
	var found [][]string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if covered(p, forbidden) {
			found = append(found, chain(parent, p))
			continue // what it imports in turn is its own business
		}
		for _, imp := range g[p] {
			if _, seen := parent[imp]; !seen {
				parent[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return found
}

// covered reports whether pkg is one of prefixes or under one of them.
func covered(pkg string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool {
		return pkg == p || strings.HasPrefix(pkg, p+"/")
	})
}

// chain is the path from the root of parent to pkg.
func chain(parent map[string]string, pkg string) []string {
	var c []string
	for p := pkg; p != ""; p = parent[p] {
		c = append(c, p)
	}
	slices.Reverse(c)
	return c
}

// TestTriggersDoNotImportTheEngine holds every package under triggers/ (test kits
// included, tests aside) to doing I/O only: none links the sensor engine, which
// resolves parameters and payloads before a trigger fires.
func TestTriggersDoNotImportTheEngine(t *testing.T) {
	t.Parallel()
	goCmd := goCommand(t)
	pkgs := strings.Fields(string(goList(t, goCmd, module+"/triggers/...")))
	if len(pkgs) == 0 {
		t.Fatal("no packages under triggers/")
	}
	g := loadGraph(t, goCmd, pkgs...)
	engine := []string{module + "/pkg/sensor"}
	for _, p := range pkgs {
		for _, v := range violations(g, p, engine) {
			t.Errorf("%s links the engine:\n\t%s", p, strings.Join(v, "\n\t-> "))
		}
	}
}

// functionCore are the packages a compiled Sensor's function links whatever
// its triggers (functions/template's handle.go): its trigger types come on top.
var functionCore = []string{
	module + "/functions/sensor",
	module + "/pkg/manifest/argo",
	module + "/pkg/metrics",
	module + "/pkg/secret",
	module + "/pkg/sensor",
	module + "/triggers",
}

// functionForbidden are what functionCore never links: client-go comes with a
// trigger type that acts on a cluster (triggers.NeedsCluster), and no trigger
// type comes with the core.
var functionForbidden = []string{
	"k8s.io/client-go",
	"knative.dev/eventing",
	module + "/pkg/kube",
	module + "/pkg/manifest/knative",
	module + "/triggers/builtin",
	module + "/triggers/k8s",
}

// TestFunctionCoreDependencies holds what every function links to no
// client-go, no Knative Eventing and no trigger type, so that a Sensor's
// function links only what its own trigger types need.
func TestFunctionCoreDependencies(t *testing.T) {
	t.Parallel()
	goCmd := goCommand(t)
	g := loadGraph(t, goCmd, append(slices.Clone(functionCore), module+"/triggers/k8s")...)
	if v := violations(g, module+"/triggers/k8s", []string{"k8s.io/client-go"}); len(v) == 0 {
		t.Errorf("the check found no client-go linked by the k8s trigger, which acts on a cluster: it cannot be trusted")
	}
	for _, p := range functionCore {
		for _, v := range violations(g, p, functionForbidden) {
			t.Errorf("%s links %s:\n\t%s", p, v[len(v)-1], strings.Join(v, "\n\t-> "))
		}
	}
}
