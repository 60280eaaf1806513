package sensor

import (
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/flintevents/flint/pkg/event"
)

// eventLogger writes the log lines about one event: the sensor's logger with the
// event's id, source and name first. The event's fields are added only to a line
// whose level is enabled, so an event logged at no level costs no logger of its own.
type eventLogger struct {
	base *zap.Logger
	ev   *event.Event
}

// enabled reports whether lines at lvl are written.
func (l eventLogger) enabled(lvl zapcore.Level) bool { return l.base.Core().Enabled(lvl) }

// log writes msg at lvl with the event's fields, then fields.
func (l eventLogger) log(lvl zapcore.Level, msg string, fields ...zap.Field) {
	ce := l.base.Check(lvl, msg)
	if ce == nil {
		return
	}
	all := make([]zap.Field, 0, 3+len(fields))
	all = append(all, zap.String("eventID", l.ev.Context.ID), zap.String("eventSource", l.ev.Context.Source),
		zap.String("eventName", l.ev.Context.Subject))
	ce.Write(append(all, fields...)...)
}

func (l eventLogger) Debug(msg string, fields ...zap.Field) {
	l.log(zapcore.DebugLevel, msg, fields...)
}
func (l eventLogger) Info(msg string, fields ...zap.Field) { l.log(zapcore.InfoLevel, msg, fields...) }
func (l eventLogger) Warn(msg string, fields ...zap.Field) { l.log(zapcore.WarnLevel, msg, fields...) }
func (l eventLogger) Error(msg string, fields ...zap.Field) {
	l.log(zapcore.ErrorLevel, msg, fields...)
}
