package sensor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
	logtrigger "github.com/flintevents/flint/triggers/log"
)

func TestRoundPolicy(t *testing.T) {
	t.Parallel()
	failure := errors.New("trigger failed")
	tests := []struct {
		name    string
		enabled bool
		rounds  []error // outcomes recorded before each admit
		want    []bool  // admit refuses, after each recorded outcome
	}{
		{"disabled: a failed round changes nothing", false, []error{failure, nil, failure}, []bool{false, false, false}},
		{"enabled: every round succeeds", true, []error{nil, nil}, []bool{false, false}},
		{"enabled: refused for good after a failed round", true, []error{nil, failure, nil}, []bool{false, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newRoundPolicy(&v1alpha1.SensorSpec{ErrorOnFailedRound: tt.enabled})
			if err := p.admit(); err != nil {
				t.Fatalf("a new sensor refuses events: %v", err)
			}
			for i, outcome := range tt.rounds {
				p.record(outcome)
				err := p.admit()
				if refused := errors.Is(err, ErrFailedRound); refused != tt.want[i] {
					t.Errorf("after round %d (%v): admit = %v, want refused %v", i, outcome, err, tt.want[i])
				}
			}
		})
	}
}

func TestSensorLoggerLoggingFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fields map[string]string
		want   map[string]any
	}{
		{"none", nil, map[string]any{"sensor": "orders"}},
		{"added to every line", map[string]string{"team": "payments", "env": "prod"},
			map[string]any{"sensor": "orders", "team": "payments", "env": "prod"}},
		{"the sensor name is kept", map[string]string{"sensor": "other"}, map[string]any{"sensor": "orders"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			core, logs := observer.New(zapcore.DebugLevel)
			s := &v1alpha1.Sensor{Spec: v1alpha1.SensorSpec{LoggingFields: tt.fields}}
			s.Name = "orders"
			sensorLogger(zap.New(core), s).Info("trigger fired", zap.String("trigger", "t"))
			entries := logs.All()
			if len(entries) != 1 {
				t.Fatalf("%d log lines, want 1", len(entries))
			}
			got := entries[0].ContextMap()
			delete(got, "trigger")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fields = %v, want %v", got, tt.want)
			}
		})
	}
}

// setStatus changes what the target answers from now on.
func (tg *target) setStatus(status int) {
	tg.mu.Lock()
	tg.status = status
	tg.mu.Unlock()
}

func TestHandleErrorOnFailedRound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		enabled bool
		// statuses the target answers to each event in turn
		statuses []int
		// wantRefused is, per event, whether Handle refuses it with ErrFailedRound
		wantRefused []bool
		wantCalls   int
	}{
		{"disabled: the events after a failed round are handled", false,
			[]int{500, 200, 200}, []bool{false, false, false}, 3},
		{"enabled: every round succeeds", true,
			[]int{200, 200}, []bool{false, false}, 2},
		{"enabled: the events after a failed round are refused", true,
			[]int{200, 500, 200, 200}, []bool{false, false, true, true}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tg, url := serve(t, http.StatusOK)
			s := loadSensor(t, "rounds", url)
			s.Spec.ErrorOnFailedRound = tt.enabled
			eng := mustNew(t, s)
			for i, status := range tt.statuses {
				tg.setStatus(status)
				err := eng.Handle(context.Background(), webhookEvent(fmt.Sprintf("e%d", i), `{}`, `{}`))
				if status != http.StatusOK && !errors.Is(err, ErrTriggerFailed) {
					t.Errorf("event %d: Handle = %v, want ErrTriggerFailed for the failed trigger", i, err)
				}
				refused := errors.Is(err, ErrFailedRound)
				if refused != tt.wantRefused[i] {
					t.Errorf("event %d: Handle = %v, want refused %v", i, err, tt.wantRefused[i])
				}
				if refused && !errors.Is(err, ErrTriggerFailed) {
					t.Errorf("event %d: refusal %v does not wrap ErrTriggerFailed, so the broker would not deliver it again", i, err)
				}
				if status == http.StatusOK && !refused && err != nil {
					t.Errorf("event %d: Handle = %v, want nil", i, err)
				}
			}
			if got := len(tg.got()); got != tt.wantCalls {
				t.Errorf("target called %d times, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestHandleLoggingFields(t *testing.T) {
	t.Parallel()
	_, url := serve(t, http.StatusOK)
	core, logs := observer.New(zapcore.DebugLevel)
	eng, err := New(loadSensor(t, "rounds", url), Options{Deps: triggers.Deps{Logger: zap.New(core)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	if err := eng.Handle(context.Background(), webhookEvent("e1", `{}`, `{"kind":"order"}`)); err != nil {
		t.Fatalf("Handle = %v", err)
	}
	messages := map[string]bool{}
	for _, e := range logs.All() {
		messages[e.Message] = true
		fields := e.ContextMap()
		for k, want := range map[string]string{"sensor": "rounds", "team": "payments", "env": "prod"} {
			if got := fields[k]; got != want {
				t.Errorf("log line %q: %s = %v, want %q (fields %v)", e.Message, k, got, want, fields)
			}
		}
	}
	// The engine's own lines and the log trigger's line.
	for _, msg := range []string{"event received", "trigger fired", logtrigger.Message} {
		if !messages[msg] {
			t.Errorf("no log line %q among %v", msg, messages)
		}
	}
}
