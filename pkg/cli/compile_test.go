package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	"knative.dev/eventing/pkg/apis/feature"
	"knative.dev/pkg/apis"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/kubetest"
)

func TestMain(m *testing.M) { kubetest.Main(m) }

// compileNamespace is the --namespace the compile tests pass.
const compileNamespace = "flint-compile"

// compiled is the output of `flint compile` for one input.
type compiled struct {
	input string
	dir   string
	// objects are the top-level YAML files, decoded.
	objects []*unstructured.Unstructured
	// functions are the kn func project directories.
	functions []string
}

// compileInputs are every example directory and every valid conformance file.
func compileInputs(t *testing.T) []string {
	t.Helper()
	var inputs []string
	examples, err := filepath.Glob("../../examples/*")
	if err != nil {
		t.Fatal(err)
	}
	conformance, err := filepath.Glob("../../test/conformance/testdata/valid/*/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inputs = append(append(inputs, examples...), conformance...)
	sort.Strings(inputs)
	return inputs
}

// compileAll runs `flint compile` on every input: each either compiles or is
// refused with every line naming a type (or a field of a type) this build
// cannot run yet.
func compileAll(t *testing.T) []compiled {
	t.Helper()
	var out []compiled
	for _, in := range compileInputs(t) {
		dir := t.TempDir()
		code, stdout, stderr := run(t, "", "compile", "-f", in, "-o", dir, "--namespace", compileNamespace, "--flint-source", "../..")
		if code != 0 {
			for _, line := range strings.Split(strings.TrimSpace(stdout+stderr), "\n") {
				if !strings.Contains(line, "not runnable yet") && !strings.Contains(line, "not supported yet") {
					t.Errorf("compile %s: exit %d with a problem other than a type not runnable yet: %s", in, code, line)
				}
			}
			continue
		}
		c := compiled{input: in, dir: dir}
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal(data, &u.Object); err != nil {
				t.Fatalf("%s: %s: %v", in, f, err)
			}
			c.objects = append(c.objects, u)
		}
		fns, err := filepath.Glob(filepath.Join(dir, "functions", "*", "func.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fns {
			c.functions = append(c.functions, filepath.Dir(f))
		}
		out = append(out, c)
	}
	return out
}

func TestCompile(t *testing.T) {
	all := compileAll(t)
	byInput := map[string]compiled{}
	for _, c := range all {
		byInput[c.input] = c
	}
	// What this build runs must compile, with what a user expects to see.
	for _, want := range []struct {
		input     string
		kinds     []string
		functions int
	}{
		{"../../examples/webhook", []string{"Broker", "ConfigMap", "Service", "Trigger"}, 1},
		{"../../test/conformance/testdata/valid/eventsources/resource.yaml", []string{"ConfigMap", "Role", "RoleBinding", "Service", "ServiceAccount"}, 0},
		{"../../test/conformance/testdata/valid/sensors/http-trigger.yaml", []string{"Broker", "Trigger"}, 1},
	} {
		c, ok := byInput[want.input]
		if !ok {
			t.Errorf("%s did not compile", want.input)
			continue
		}
		kinds := map[string]bool{}
		for _, o := range c.objects {
			kinds[o.GetKind()] = true
		}
		for _, k := range want.kinds {
			if !kinds[k] {
				t.Errorf("%s: no %s in the output (kinds %v)", want.input, k, kinds)
			}
		}
		if len(c.functions) != want.functions {
			t.Errorf("%s: %d kn func projects, want %d", want.input, len(c.functions), want.functions)
		}
	}

	t.Run("knative validation", func(t *testing.T) {
		checkKnativeValidation(t, all)
	})
	t.Run("server-side dry run", func(t *testing.T) {
		checkDryRun(t, all)
	})
	t.Run("functions build and pass their tests", func(t *testing.T) {
		checkFunctions(t, all)
	})
}

// checkKnativeValidation runs Knative's own Validate on every Knative object.
func checkKnativeValidation(t *testing.T, all []compiled) {
	flags, err := feature.NewFlagsConfigFromMap(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := apis.WithinCreate(feature.ToContext(context.Background(), flags))
	checked := 0
	for _, c := range all {
		for _, u := range c.objects {
			var target interface {
				Validate(context.Context) *apis.FieldError
			}
			switch u.GetAPIVersion() + "/" + u.GetKind() {
			case "serving.knative.dev/v1/Service":
				target = &servingv1.Service{}
			case "eventing.knative.dev/v1/Broker":
				target = &eventingv1.Broker{}
			case "eventing.knative.dev/v1/Trigger":
				target = &eventingv1.Trigger{}
			default:
				continue
			}
			if err := runtimeConvert(u, target); err != nil {
				t.Errorf("%s: %s %s: %v", c.input, u.GetKind(), u.GetName(), err)
				continue
			}
			checked++
			// What Knative's admission webhooks do: defaults, then validation.
			if d, ok := target.(apis.Defaultable); ok {
				d.SetDefaults(ctx)
			}
			if fe := target.Validate(ctx); fe != nil {
				if fe = fe.Filter(apis.ErrorLevel); fe != nil {
					t.Errorf("%s: %s %s is invalid for Knative: %v", c.input, u.GetKind(), u.GetName(), fe)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no Knative object was validated")
	}
}

func runtimeConvert(u *unstructured.Unstructured, into any) error {
	data, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	return yaml.UnmarshalStrict(data, into)
}

// checkDryRun applies every object with server-side dry run to the test API
// server, with Knative Serving and Eventing CRDs from the module cache.
func checkDryRun(t *testing.T, all []compiled) {
	env := kubetest.Start(t)
	var crds []string
	for _, mod := range []string{"knative.dev/serving", "knative.dev/eventing"} {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
		if err != nil {
			t.Fatalf("locating %s: %v", mod, err)
		}
		dir := strings.TrimSpace(string(out))
		switch mod {
		case "knative.dev/serving":
			crds = append(crds, filepath.Join(dir, "config", "core", "300-resources"))
		default:
			crds = append(crds, filepath.Join(dir, "config", "core", "resources"))
		}
	}
	env.InstallCRDs(t, crds...)
	ns := env.Namespace(t)
	ctx := t.Context()
	// Namespaces that resource sources watch (Roles go there).
	for _, c := range all {
		for _, u := range c.objects {
			if other := u.GetNamespace(); other != "" && other != compileNamespace {
				_, err := env.Clients.Core.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: other}}, metav1.CreateOptions{})
				if err != nil && !apierrors.IsAlreadyExists(err) {
					t.Fatalf("creating namespace %s: %v", other, err)
				}
			}
		}
	}
	applied := 0
	for _, c := range all {
		for _, u := range c.objects {
			u = u.DeepCopy()
			if u.GetNamespace() == compileNamespace {
				u.SetNamespace(ns)
			}
			gvk := u.GroupVersionKind()
			mapping, err := env.Clients.Mapper.RESTMapping(schema.GroupKind{Group: gvk.Group, Kind: gvk.Kind}, gvk.Version)
			if err != nil {
				t.Errorf("%s: %s %s: %v", c.input, gvk.Kind, u.GetName(), err)
				continue
			}
			var r interface {
				Apply(context.Context, string, *unstructured.Unstructured, metav1.ApplyOptions, ...string) (*unstructured.Unstructured, error)
			} = env.Clients.Dynamic.Resource(mapping.Resource)
			if u.GetNamespace() != "" {
				r = env.Clients.Dynamic.Resource(mapping.Resource).Namespace(u.GetNamespace())
			}
			if _, err := r.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "flint-compile-test", DryRun: []string{metav1.DryRunAll}}); err != nil {
				t.Errorf("%s: dry-run apply of %s %s: %v", c.input, gvk.Kind, u.GetName(), err)
				continue
			}
			applied++
		}
	}
	if applied == 0 {
		t.Fatal("nothing was applied")
	}
}

// checkFunctions builds every generated kn func project offline and runs its
// own test, two at a time.
func checkFunctions(t *testing.T, all []compiled) {
	if testing.Short() {
		t.Skip("building the generated functions takes a while; skipped with -short")
	}
	var dirs []string
	for _, c := range all {
		dirs = append(dirs, c.functions...)
	}
	if len(dirs) == 0 {
		t.Fatal("no kn func project was generated")
	}
	sem := make(chan struct{}, min(2, runtime.NumCPU()))
	var wg sync.WaitGroup
	errs := make([]error, len(dirs))
	for i, dir := range dirs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = buildAndTest(t.Context(), dir)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", dirs[i], err)
		}
	}
}

func buildAndTest(ctx context.Context, dir string) error {
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}, {"test", "-count=1", "./..."}} {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		// Offline: everything comes from the flint checkout and the module cache.
		cmd.Env = append(os.Environ(), "GOPROXY=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}
