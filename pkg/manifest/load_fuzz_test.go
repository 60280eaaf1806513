package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzCheckReader feeds arbitrary documents to the manifest loader and its
// checks. It never panics; a failure is an error or a list of problems that
// each name where they are; a set that loads without problems encodes to
// JSON that loads again to the same objects.
func FuzzCheckReader(f *testing.F) {
	addManifestSeeds(f)
	for _, seed := range []string{
		"", "---\n---\n", "kind: Sensor", "apiVersion: argoproj.io/v1alpha1\nkind: EventSource\nmetadata: {name: x}\nspec: {webhook: {e: {port: '12000', endpoint: /e}}}",
		"a: &a [*a]", "[[[[[[[[[[", "{\"apiVersion\": \"argoproj.io/v1alpha1\", \"kind\": \"Sensor\"}",
		"apiVersion: argoproj.io/v1alpha1\nkind: Sensor\nmetadata: {name: s}\nspec:\n  dependencies: [{name: d, eventSourceName: e, eventName: n, filters: {script: 'while true do end'}}]\n  triggers: [{template: {name: t, log: {}}}]",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, problems, err := CheckReader(context.Background(), bytes.NewReader(data), "fuzz.yaml")
		if err != nil || len(problems) > 0 {
			for _, p := range problems {
				if p.Reason == "" || p.File != "fuzz.yaml" {
					t.Fatalf("a problem without a reason or its file: %#v", p)
				}
			}
			return
		}
		var again bytes.Buffer
		for _, o := range set.Objects {
			var v any
			switch {
			case o.EventSource != nil:
				v = o.EventSource
			case o.Sensor != nil:
				v = o.Sensor
			case o.Broker != nil:
				v = o.Broker
			case o.Trigger != nil:
				v = o.Trigger
			default:
				continue
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("encoding %s %s: %v", o.Kind, o.Name(), err)
			}
			again.Write(b)
			again.WriteString("\n---\n")
		}
		set2, err := LoadReader(bytes.NewReader(again.Bytes()), "again.yaml")
		if err != nil {
			t.Fatalf("the encoded set does not load again: %v\n%s", err, again.Bytes())
		}
		if len(set2.Objects) != countTyped(set) {
			t.Fatalf("loaded %d objects again, want %d", len(set2.Objects), countTyped(set))
		}
		for i, o := range set2.Objects {
			if o.Kind != set.Objects[i].Kind || o.Name() != set.Objects[i].Name() {
				t.Fatalf("object %d is %s %s again, was %s %s", i, o.Kind, o.Name(), set.Objects[i].Kind, set.Objects[i].Name())
			}
		}
	})
}

// countTyped counts the objects of the set that have a typed form.
func countTyped(s *Set) int {
	n := 0
	for _, o := range s.Objects {
		if o.EventSource != nil || o.Sensor != nil || o.Broker != nil || o.Trigger != nil {
			n++
		}
	}
	return n
}

// addManifestSeeds seeds f with every manifest of the package's testdata and of
// the examples.
func addManifestSeeds(f *testing.F) {
	f.Helper()
	for _, glob := range []string{"testdata/cases/*.yaml", "testdata/tree/*.yaml", "../../examples/*/*.yaml"} {
		paths, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}
