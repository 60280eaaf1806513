package sensor

import (
	"errors"
	"reflect"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
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
