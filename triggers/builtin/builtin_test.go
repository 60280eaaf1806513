package builtin_test

import (
	"testing"

	"github.com/flintevents/flint/triggers"
	_ "github.com/flintevents/flint/triggers/builtin"
)

func TestRegistered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		spec string
	}{
		{"http", `{"url":"http://127.0.0.1/"}`},
		{"log", `{}`},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			t.Parallel()
			typ, ok := triggers.Lookup(tc.key)
			if !ok {
				t.Fatalf("no trigger type registered for %q (have %v)", tc.key, triggers.Keys())
			}
			inst, err := typ.Build([]byte(tc.spec), triggers.Deps{})
			if err != nil {
				t.Fatalf("Build(%s) = %v", tc.spec, err)
			}
			if err := inst.Close(); err != nil {
				t.Fatalf("Close = %v", err)
			}
		})
	}
	if _, ok := triggers.Lookup("pulsar"); ok {
		t.Error(`"pulsar" is registered but has no package in builtin`)
	}
}
