// Package triggertest is the conformance suite every trigger type runs from
// its tests: the type is registered under its key, builds from a valid spec
// and refuses a bad one with a field path, honours context cancellation,
// closes cleanly, and delivers what a firing asks for.
package triggertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/triggers"
)

// Prompt is how long Fire may take to give up once its context is cancelled.
const Prompt = 2 * time.Second

// Case describes one trigger type to check.
type Case struct {
	// Key is the Argo template key the type registers, e.g. "http".
	Key string
	// Spec is a valid spec of the type (YAML or JSON), as under its key in a
	// Sensor; its firing must succeed.
	Spec string
	// BadSpec is a spec Build must refuse with an *apis.FieldError whose
	// problems name BadPath (relative to the spec, e.g. "tls.caCertSecret").
	BadSpec, BadPath string
	// Deps are given to Build; a nil Logger is replaced by zap.NewNop by the type.
	Deps triggers.Deps
	// Firing is what the engine would hand the type for Spec.
	Firing triggers.Firing
	// Check inspects what one firing of Spec delivered (e.g. the request an
	// HTTP target got); it runs after Fire returned.
	Check func(t *testing.T, res triggers.Result, err error)
	// Blocking, when set, is a spec whose firing waits on its target until
	// the context ends (types with I/O): Fire must then return promptly
	// with an error once the context is cancelled mid-call.
	Blocking string
}

// Run runs the conformance checks for c as subtests of t.
func Run(t *testing.T, c Case) {
	t.Helper()
	typ, ok := triggers.Lookup(c.Key)
	if !ok {
		t.Fatalf("no trigger type registered under %q (have %v)", c.Key, triggers.Keys())
	}
	build := func(t *testing.T, spec string) (triggers.Instance, []byte) {
		t.Helper()
		raw := toJSON(t, spec)
		inst, err := typ.Build(raw, c.Deps)
		if err != nil {
			t.Fatalf("Build(%s) = %v", raw, err)
		}
		t.Cleanup(func() { _ = inst.Close() })
		return inst, raw
	}
	fire := func(ctx context.Context, t *testing.T, spec string) (triggers.Result, error) {
		t.Helper()
		inst, raw := build(t, spec)
		decoded, err := inst.Decode(raw)
		if err != nil {
			t.Fatalf("Decode(%s) = %v", raw, err)
		}
		return inst.Fire(ctx, decoded, c.Firing)
	}

	t.Run("fires", func(t *testing.T) {
		res, err := fire(context.Background(), t, c.Spec)
		if c.Check != nil {
			c.Check(t, res, err)
		} else if err != nil {
			t.Fatalf("Fire = %v", err)
		}
	})
	t.Run("refuses a bad spec with a field path", func(t *testing.T) {
		if c.BadSpec == "" {
			t.Skip("the case has no bad spec")
		}
		inst, err := typ.Build(toJSON(t, c.BadSpec), c.Deps)
		if err == nil {
			_ = inst.Close()
			t.Fatalf("Build accepted the bad spec %s", c.BadSpec)
		}
		var fe *apis.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("Build error %v (%T) is not an *apis.FieldError", err, err)
		}
		if !hasPath(fe, c.BadPath) {
			t.Fatalf("Build error %q does not name %q", fe, c.BadPath)
		}
	})
	t.Run("a cancelled context fails the firing", func(t *testing.T) {
		spec := c.Spec
		if c.Blocking != "" {
			spec = c.Blocking
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		if _, err := fire(ctx, t, spec); err == nil {
			t.Fatal("Fire with a cancelled context succeeded")
		}
		if took := time.Since(start); took > Prompt {
			t.Fatalf("Fire with a cancelled context took %s, want under %s", took, Prompt)
		}
	})
	t.Run("cancellation mid-call ends the firing", func(t *testing.T) {
		if c.Blocking == "" {
			t.Skip("the case has no blocking spec")
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		_, err := fire(ctx, t, c.Blocking)
		if err == nil {
			t.Fatal("Fire succeeded although its context was cancelled")
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Fire = %v, want it to wrap context.Canceled", err)
		}
		if took := time.Since(start); took > Prompt {
			t.Fatalf("Fire took %s after cancellation, want under %s", took, Prompt)
		}
	})
	t.Run("closes cleanly", func(t *testing.T) {
		inst, err := typ.Build(toJSON(t, c.Spec), c.Deps)
		if err != nil {
			t.Fatalf("Build = %v", err)
		}
		if err := inst.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
	})
}

// toJSON converts a YAML or JSON spec to JSON.
func toJSON(t *testing.T, spec string) []byte {
	t.Helper()
	raw, err := yaml.YAMLToJSON([]byte(spec))
	if err != nil {
		t.Fatalf("spec is neither YAML nor JSON: %v", err)
	}
	return raw
}

// hasPath reports whether one of the problems is at path.
func hasPath(fe *apis.FieldError, path string) bool {
	for _, e := range fe.WrappedErrors() {
		for _, p := range e.Paths {
			if p == path {
				return true
			}
		}
	}
	return false
}
