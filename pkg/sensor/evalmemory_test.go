package sensor

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

// TestEvalMemoryBudget checks that a Lua table fill and a jq range, fed by
// one event, stop at the memory budget instead of taking the process down:
// each fails its dependency with the reason, well before the time limit.
func TestEvalMemoryBudget(t *testing.T) {
	raw, err := os.ReadFile("testdata/memory-bombs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s v1alpha1.Sensor
	if err := yaml.UnmarshalStrict(raw, &s); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.WarnLevel)
	sn := mustNewWith(t, &s, Options{
		EvalTimeout: time.Minute,
		EvalMemory:  64 << 20,
		Deps:        triggers.Deps{Logger: zap.New(core)},
	})
	start := time.Now()
	if err := sn.Handle(context.Background(), webhookEvent("1", `{}`, `{"a":"x"}`)); err != nil {
		t.Fatalf("Handle = %v, want nil (every dependency filtered out)", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("Handle took %s; the evaluations should stop at the memory budget", took)
	}
	got := map[string]string{}
	for _, e := range logs.FilterMessage("dependency filtered out").All() {
		f := e.ContextMap()
		got[fmt.Sprint(f["dependency"])] = fmt.Sprint(f["error"])
	}
	const over = "evaluation memory budget exceeded (64 MiB)"
	for dep, want := range map[string]string{
		"lua-table-fill": "script filter: " + over,
		"jq-range":       "transform jq: " + over,
	} {
		if got[dep] != want {
			t.Errorf("dependency %s: error %q, want %q", dep, got[dep], want)
		}
	}
}
