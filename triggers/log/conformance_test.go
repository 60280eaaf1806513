package log_test

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/triggers"
	logtrigger "github.com/flintevents/flint/triggers/log"
	"github.com/flintevents/flint/triggers/triggertest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.InfoLevel)
	triggertest.Run(t, triggertest.Case{
		Key:     "log",
		Spec:    "intervalSeconds: 0",
		BadSpec: "intervalSeconds: -1",
		BadPath: "intervalSeconds",
		Deps:    triggers.Deps{Logger: zap.New(core)},
		Firing: triggers.Firing{Sensor: "s", Trigger: "print", Events: map[string]*event.Event{
			"dep": {Context: event.Context{ID: "e1", DataContentType: "application/json"}, Data: []byte(`{"a":1}`)},
		}},
		Check: func(t *testing.T, res triggers.Result, err error) {
			if err != nil || res.StatusCode != 0 {
				t.Fatalf("Fire = %+v, %v", res, err)
			}
			lines := logs.FilterMessage(logtrigger.Message).AllUntimed()
			if len(lines) != 1 {
				t.Fatalf("logged %d lines, want 1", len(lines))
			}
			f := lines[0].ContextMap()
			if f["sensor"] != "s" || f["trigger"] != "print" || f["dependencyName"] != "dep" || f["data"] != `{"a":1}` {
				t.Errorf("line fields = %v", f)
			}
		},
	})
}
