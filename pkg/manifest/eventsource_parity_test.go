package manifest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/manifest/argo"
	"github.com/flintevents/flint/pkg/manifest/knative"
)

// loadOutcome is what a source image makes of its EventSource input: the
// EventSource, or the problems, or the error that refuses it.
type loadOutcome struct {
	es       *v1alpha1.EventSource
	problems []string
	err      string
}

func (o loadOutcome) accepted() bool { return o.es != nil }

func (o loadOutcome) String() string {
	if o.es != nil {
		return "EventSource " + o.es.Name
	}
	return fmt.Sprintf("problems %q, error %q", o.problems, o.err)
}

// fullLoad is the source image's former load path: CheckReader, then exactly
// one object, an EventSource.
func fullLoad(data []byte, name string) loadOutcome {
	set, problems, err := CheckReader(context.Background(), bytes.NewReader(data), name)
	switch {
	case err != nil:
		return loadOutcome{err: err.Error()}
	case len(problems) > 0:
		return loadOutcome{problems: problemStrings(problems)}
	case len(set.Objects) != 1 || len(set.EventSources()) != 1:
		return loadOutcome{err: fmt.Sprintf("%s holds %d objects, want exactly one EventSource", name, len(set.Objects))}
	}
	return loadOutcome{es: set.EventSources()[0]}
}

// leanLoad is the source image's load path: argo.CheckEventSource.
func leanLoad(data []byte, name string) loadOutcome {
	es, problems, err := argo.CheckEventSource(context.Background(), bytes.NewReader(data), name)
	o := loadOutcome{es: es, problems: problemStrings(problems)}
	if err != nil {
		o.err = err.Error()
	}
	return o
}

func problemStrings(ps Problems) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

// TestEventSourceLoadPathsAgree holds the source image's load path to
// CheckReader: the same EventSource, problems or error for inputs of at most
// one Argo object and no Knative one. (With several objects CheckReader also
// checks them against each other, and it validates Knative objects; both
// paths refuse those inputs all the same, see FuzzEventSourceLoadPaths.)
func TestEventSourceLoadPathsAgree(t *testing.T) {
	t.Parallel()
	paths := []string{
		"testdata/tree/a-eventsource.yaml",
		"testdata/cases/unknown-field.yaml",
		"testdata/cases/port-number.yaml",
		"testdata/cases/kinds.yaml",
		"testdata/cases/bad-yaml.yaml",
		"testdata/cases/single-broken.yaml",
		"testdata/cases/validation.yaml",
		"testdata/cases/trigger-type.yaml",
	}
	examples, err := filepath.Glob("../../examples/*/eventsource.yaml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, p := range append(paths, examples...) {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			full, lean := fullLoad(data, p), leanLoad(data, p)
			if !slices.Equal(full.problems, lean.problems) || full.err != lean.err || !reflect.DeepEqual(full.es, lean.es) {
				t.Errorf("CheckReader: %s\nargo.CheckEventSource: %s", full, lean)
			}
		})
	}
}

// TestKnativeNamesAgree holds the Knative kinds package argo names without
// linking Knative to package knative's.
func TestKnativeNamesAgree(t *testing.T) {
	t.Parallel()
	for _, k := range knative.Kinds() {
		doc := fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata: {name: x}\n", k.APIVersion, strings.ToLower(k.Kind))
		full, lean := fullLoad([]byte(doc), "k.yaml"), leanLoad([]byte(doc), "k.yaml")
		if !slices.Equal(full.problems, lean.problems) || len(lean.problems) != 1 {
			t.Errorf("a near miss of %s: CheckReader: %s\nargo.CheckEventSource: %s", k.Kind, full, lean)
		}
		doc = fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata: {name: x}\n", k.APIVersion, k.Kind)
		if lean := leanLoad([]byte(doc), "k.yaml"); lean.err != "k.yaml holds 1 objects, want exactly one EventSource" {
			t.Errorf("a %s: argo.CheckEventSource: %s, want it counted as an object", k.Kind, lean)
		}
	}
}

// FuzzEventSourceLoadPaths feeds arbitrary input to both load paths: they
// accept the same EventSource or both refuse.
func FuzzEventSourceLoadPaths(f *testing.F) {
	addManifestSeeds(f)
	es := "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\nmetadata: {name: x}\nspec: {webhook: {e: {port: '12000', endpoint: /e, method: POST}}}\n"
	for _, seed := range []string{
		es,
		es + "---\napiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: default}\nspec: {colour: blue}\n",
		es + "---\napiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {name: t}\nspec: {broker: 5}\n",
		es + "---\napiVersion: eventing.knative.dev/v1beta1\nkind: Trigger\nmetadata: {name: t}\n",
		es + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
		"apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: 5\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		full, lean := fullLoad(data, "fuzz.yaml"), leanLoad(data, "fuzz.yaml")
		if full.accepted() != lean.accepted() || !reflect.DeepEqual(full.es, lean.es) {
			t.Fatalf("CheckReader: %s\nargo.CheckEventSource: %s", full, lean)
		}
	})
}
