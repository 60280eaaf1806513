package conformance

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/dev"
	"github.com/flintevents/flint/pkg/manifest"
	_ "github.com/flintevents/flint/sources/builtin"
	_ "github.com/flintevents/flint/triggers/builtin"
)

// manifestFiles lists the YAML files under dir, sorted.
func manifestFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no YAML files under %s", dir)
	}
	return files
}

// check runs the load path `flint validate` and `flint dev` share: strict
// decoding, defaults and validation, then building every object as dev does.
// Types this build cannot run yet are valid, so they are not problems here.
func check(t *testing.T, paths ...string) (*manifest.Set, manifest.Problems) {
	t.Helper()
	set, problems, _ := checkRunnable(t, paths...)
	return set, problems
}

// checkRunnable is check that also returns what this build cannot run yet.
func checkRunnable(t *testing.T, paths ...string) (*manifest.Set, manifest.Problems, manifest.Problems) {
	t.Helper()
	ctx := context.Background()
	set, problems, err := manifest.Loader{}.Check(ctx, paths...)
	if err != nil {
		t.Fatalf("Check(%v) error = %v", paths, err)
	}
	// testdata/secrets holds the Secrets the corpus references, as mounted files.
	built, notRunnable := dev.Validate(ctx, set, problems, dev.Options{SecretsDir: "testdata/secrets"})
	return set, append(problems, built...), notRunnable
}

func TestValidCorpus(t *testing.T) {
	t.Parallel()
	for _, f := range manifestFiles(t, "testdata/valid") {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			set, problems := check(t, f)
			if len(problems) > 0 {
				t.Errorf("problems:\n%v", problems)
			}
			if len(set.Warnings) > 0 {
				t.Errorf("warnings:\n%v", set.Warnings)
			}
			if len(set.Objects) == 0 {
				t.Error("no object decoded")
			}
		})
	}
}

func TestValidCorpusAsOneSet(t *testing.T) {
	t.Parallel()
	set, problems := check(t, "testdata/valid")
	if len(problems) > 0 {
		t.Fatalf("problems:\n%v", problems)
	}
	sourceKeys := map[string]bool{}
	for _, es := range set.EventSources() {
		for _, k := range es.Spec.TypeKeys() {
			sourceKeys[k] = true
		}
	}
	for _, k := range v1alpha1.EventSourceTypeKeys() {
		if !sourceKeys[k] {
			t.Errorf("no valid EventSource uses type key %q", k)
		}
	}
	triggerKeys := map[string]bool{}
	for _, s := range set.Sensors() {
		for _, tr := range s.Spec.Triggers {
			triggerKeys[tr.Template.TypeKey()] = true
		}
	}
	for _, k := range v1alpha1.TriggerTypeKeys() {
		if !triggerKeys[k] {
			t.Errorf("no valid Sensor uses trigger type %q", k)
		}
	}
}

// wants reads the `# want: <path>: <reason>` lines (problems) and the
// `# warning: <path>: <reason>` lines (unknown fields) at the top of a file.
func wants(t *testing.T, file string) (problems, warnings []string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "# want: "); ok {
			problems = append(problems, line)
		} else if line, ok := strings.CutPrefix(sc.Text(), "# warning: "); ok {
			warnings = append(warnings, line)
		} else {
			break
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(problems) == 0 {
		t.Fatalf("%s has no leading # want: line", file)
	}
	slices.Sort(problems)
	slices.Sort(warnings)
	return problems, warnings
}

// lines renders problems as `<path>: <reason>`, sorted, checking that each
// names file.
func lines(t *testing.T, file string, ps manifest.Problems) []string {
	t.Helper()
	var out []string
	for _, p := range ps {
		if p.File != file {
			t.Errorf("problem names file %q, want %q", p.File, file)
		}
		if p.Path == "" {
			out = append(out, p.Reason)
		} else {
			out = append(out, p.Path+": "+p.Reason)
		}
	}
	slices.Sort(out)
	return out
}

func TestInvalidCorpus(t *testing.T) {
	t.Parallel()
	for _, f := range manifestFiles(t, "testdata/invalid") {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			want, wantWarnings := wants(t, f)
			set, problems := check(t, f)
			if got := lines(t, f, problems); !slices.Equal(got, want) {
				t.Errorf("problems =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if got := lines(t, f, set.Warnings); !slices.Equal(got, wantWarnings) {
				t.Errorf("warnings =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(wantWarnings, "\n  "))
			}
		})
	}
}

func TestExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir     string
		sources map[string][]string // EventSource name → event names
		sensors map[string][]string // Sensor name → trigger names
	}{
		{
			dir:     "../../examples/webhook",
			sources: map[string][]string{"webhook": {"webhook_example"}},
			sensors: map[string][]string{"webhook": {"log-trigger"}},
		},
		{
			dir:     "../../examples/k8s-resource-lambda",
			sources: map[string][]string{"k8s-pods": {"pod-add"}},
			sensors: map[string][]string{"k8s-pods-lambda": {"hello"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			t.Parallel()
			set, problems := check(t, tc.dir)
			if len(problems) > 0 {
				t.Fatalf("problems:\n%v", problems)
			}
			for _, es := range set.EventSources() {
				var names []string
				for _, k := range es.Spec.TypeKeys() {
					names = append(names, es.Spec.EventNames(k)...)
				}
				if want, ok := tc.sources[es.Name]; !ok || !slices.Equal(names, want) {
					t.Errorf("EventSource %q has events %v, want %v", es.Name, names, want)
				}
			}
			for _, s := range set.Sensors() {
				var names []string
				for _, tr := range s.Spec.Triggers {
					names = append(names, tr.Template.Name)
				}
				if want, ok := tc.sensors[s.Name]; !ok || !slices.Equal(names, want) {
					t.Errorf("Sensor %q has triggers %v, want %v", s.Name, names, want)
				}
			}
			if len(set.EventSources()) != len(tc.sources) || len(set.Sensors()) != len(tc.sensors) {
				t.Errorf("got %d EventSources and %d Sensors", len(set.EventSources()), len(set.Sensors()))
			}
		})
	}
}
