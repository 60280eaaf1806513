package builtin_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
	_ "github.com/flintevents/flint/sources/builtin"
)

// sourcesPackage is the import path of the sources tree.
const sourcesPackage = "github.com/flintevents/flint/sources/"

// TestRegisteredTypesDeclareTheirFacts checks every source type flint ships:
// it is a type key of the EventSource spec, declares its kind, has the
// command folder its image is built from, and states the facts its kind and
// cluster needs imply, so that hosts and `flint compile` can read them from
// the registration rather than from a switch on its key.
func TestRegisteredTypesDeclareTheirFacts(t *testing.T) {
	keys := sources.Keys()
	if len(keys) == 0 {
		t.Fatal("builtin registers no source type")
	}
	specKeys := v1alpha1.EventSourceTypeKeys()
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			typ, ok := sources.Lookup(key)
			if !ok || typ.Key != key {
				t.Fatalf("Lookup(%q) = %q, %v", key, typ.Key, ok)
			}
			if !slices.Contains(specKeys, key) {
				t.Errorf("%q is no type key of the EventSource spec", key)
			}
			if !typ.Kind.Valid() {
				t.Errorf("kind %q, want push, pull or watch", typ.Kind)
			}
			if typ.Factory == nil {
				t.Error("no factory")
			}
			if !strings.HasPrefix(typ.Package, sourcesPackage) {
				t.Errorf("registered from package %q, want one under %s", typ.Package, sourcesPackage)
			}
			main := filepath.Join("..", "cmd", strings.ToLower(key), "main.go") // an image name has no capitals
			if _, err := os.Stat(main); err != nil {
				t.Errorf("no command for the type's image: %v", err)
			}
			if typ.Connect != nil && typ.RBAC == nil {
				t.Error("needs a cluster but declares no RBAC: its Service would run with no rights in it")
			}
			if typ.Hooks != nil && typ.Kind != sources.Push {
				t.Errorf("manages hooks but is of kind %s: a hook delivers to a push source's routes", typ.Kind)
			}
		})
	}
}

// TestKinds pins the kinds of the types flint ships, as docs/architecture.md
// lists them.
func TestKinds(t *testing.T) {
	want := map[string]sources.Kind{
		v1alpha1.TypeWebhook:  sources.Push,
		v1alpha1.TypeGithub:   sources.Push,
		v1alpha1.TypeResource: sources.Watch,
	}
	for key, kind := range want {
		typ, ok := sources.Lookup(key)
		if !ok {
			t.Errorf("%s is not registered", key)
			continue
		}
		if typ.Kind != kind {
			t.Errorf("%s is of kind %s, want %s", key, typ.Kind, kind)
		}
	}
}
