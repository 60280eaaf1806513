package registry

import (
	"reflect"
	"testing"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	r := New[func() string]("things")
	r.Register("b", func() string { return "B" })
	r.Register("a", func() string { return "A" })
	if f, ok := r.Lookup("a"); !ok || f() != "A" {
		t.Fatalf("Lookup(a) found %v, want the factory registered for a", ok)
	}
	if _, ok := r.Lookup("c"); ok {
		t.Fatal("Lookup(c) found an unregistered key")
	}
	if got := r.Keys(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("Keys = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a duplicate Register did not panic")
		}
	}()
	r.Register("a", func() string { return "again" })
}

// TestCallerPackage: a Register names the package of its caller's caller,
// here this test's package.
func TestCallerPackage(t *testing.T) {
	t.Parallel()
	register := func() string { return CallerPackage(1) }
	if got, want := register(), "github.com/flintevents/flint/pkg/registry"; got != want {
		t.Errorf("CallerPackage = %q, want %q", got, want)
	}
}
