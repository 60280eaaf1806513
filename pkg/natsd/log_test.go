package natsd

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestServerLogLevels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		log   func(l serverLog)
		level zapcore.Level
	}{
		{"warning", func(l serverLog) { l.Warnf("block %d is damaged", 1) }, zapcore.WarnLevel},
		{"error", func(l serverLog) { l.Errorf("block %d is damaged", 1) }, zapcore.ErrorLevel},
		{"fatal is an error of the process", func(l serverLog) { l.Fatalf("block %d is damaged", 1) }, zapcore.ErrorLevel},
		{"notice", func(l serverLog) { l.Noticef("block %d is damaged", 1) }, zapcore.DebugLevel},
		{"debug", func(l serverLog) { l.Debugf("block %d is damaged", 1) }, zapcore.DebugLevel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			core, logs := observer.New(zapcore.DebugLevel)
			tc.log(serverLog{log: zap.New(core)})
			if logs.Len() != 1 {
				t.Fatalf("%d lines, want 1", logs.Len())
			}
			if e := logs.All()[0]; e.Level != tc.level || e.Message != "block 1 is damaged" {
				t.Errorf("logged %s %q, want %s %q", e.Level, e.Message, tc.level, "block 1 is damaged")
			}
		})
	}
}

func TestServerLogReportsLoss(t *testing.T) {
	t.Parallel()
	var got []Loss
	l := serverLog{log: zap.NewNop(), onLoss: func(loss Loss) { got = append(got, loss) }}
	l.Warnf(consumerPastLastSeq, "$G", "broker_default__default", "trigger_default__orders-order", uint64(51), uint64(49))
	l.Warnf("Filestore [%s] Stream state outdated", "broker_default__default")
	want := Loss{Stream: "broker_default__default", Consumer: "trigger_default__orders-order", Delivered: 51, LastSeq: 49}
	if len(got) != 1 || got[0] != want {
		t.Errorf("losses = %+v, want [%+v]", got, want)
	}
}
