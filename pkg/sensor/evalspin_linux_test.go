package sensor

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

// TestAbandonedEvaluationsStop handles six events whose every dependency
// loops for hours (templates ranging over 100000³ without writing, a range
// over an integer, nested expression predicates, Lua and jq loops) under a
// 100 ms limit, and checks that each fails at the limit and that the
// process is idle a second later: the evaluations stopped, none runs on
// after it was abandoned. It measures the CPU time of the whole process, so
// it does not run in parallel with other tests.
func TestAbandonedEvaluationsStop(t *testing.T) {
	raw, err := os.ReadFile("testdata/eval-spin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s v1alpha1.Sensor
	if err := yaml.UnmarshalStrict(raw, &s); err != nil {
		t.Fatal(err)
	}
	const limit = 100 * time.Millisecond
	core, logs := observer.New(zap.WarnLevel)
	sn := mustNewWith(t, &s, Options{EvalTimeout: limit, Deps: triggers.Deps{Logger: zap.New(core)}})
	list := make([]string, 1000)
	for i := range list {
		list[i] = fmt.Sprint(i)
	}
	for i := range 6 {
		ev := webhookEvent(fmt.Sprint(i), `{}`, `{"a":"x","list":[`+strings.Join(list, ",")+`]}`)
		if err := sn.Handle(context.Background(), ev); err != nil {
			t.Fatalf("Handle = %v, want nil (every dependency filtered out)", err)
		}
	}
	errs := map[string]int{}
	for _, e := range logs.FilterMessage("dependency filtered out").All() {
		f := e.ContextMap()
		if strings.HasSuffix(fmt.Sprint(f["error"]), "evaluation time limit exceeded (100ms)") {
			errs[fmt.Sprint(f["dependency"])]++
		}
	}
	for _, d := range s.Spec.Dependencies {
		if errs[d.Name] != 6 {
			t.Errorf("dependency %s failed at the time limit %d times, want 6", d.Name, errs[d.Name])
		}
	}
	time.Sleep(time.Second)
	before := cpuTime(t)
	time.Sleep(time.Second)
	if used := cpuTime(t) - before; used > 150*time.Millisecond {
		t.Errorf("the process used %s of CPU in the second after the evaluations were abandoned, want it idle", used)
	}
}

// cpuTime is the CPU time the process used so far.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
