package builtin_test

import (
	"testing"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
	_ "github.com/flintevents/flint/triggers/builtin"
)

func TestRegistered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		tmpl *v1alpha1.TriggerTemplate
	}{
		{v1alpha1.TriggerTypeHTTP, &v1alpha1.TriggerTemplate{Name: "h", HTTP: &v1alpha1.HTTPTrigger{URL: "http://127.0.0.1/"}}},
		{v1alpha1.TriggerTypeLog, &v1alpha1.TriggerTemplate{Name: "l", Log: &v1alpha1.LogTrigger{}}},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			t.Parallel()
			f, ok := triggers.Lookup(tc.key)
			if !ok {
				t.Fatalf("no trigger type registered for %q (have %v)", tc.key, triggers.Keys())
			}
			tr, err := f(tc.tmpl, triggers.Deps{})
			if err != nil || tr == nil {
				t.Fatalf("factory: %v, %v", tr, err)
			}
			// A template of another type is refused, not ignored.
			if _, err := f(&v1alpha1.TriggerTemplate{Name: "other"}, triggers.Deps{}); err == nil {
				t.Fatalf("factory accepted a template without a %q key", tc.key)
			}
		})
	}
}
