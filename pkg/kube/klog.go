package kube

import (
	"fmt"

	"github.com/go-logr/logr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"
)

// LogTo sends what client-go logs (through klog: failed watches, dropped
// connections, throttled requests) to logger, so that it is a line of the
// process's log, at its level and in its format, instead of a raw
// "E1207 12:00:00.000000 …" line on stderr. klog has one logger per
// process: a process calls LogTo once, where it builds its clients, and the
// last call wins.
func LogTo(logger *zap.Logger) {
	klog.SetLogger(logr.New(&zapSink{log: logger}))
}

// zapSink is a logr.LogSink writing to a zap logger: logr's level 0 is
// zap's Info, every higher (more verbose) level zap's Debug, and logr's
// Error zap's Error.
type zapSink struct {
	log *zap.Logger
}

var _ logr.LogSink = (*zapSink)(nil)

// Init implements logr.LogSink; zap finds no caller it would print.
func (s *zapSink) Init(logr.RuntimeInfo) {}

// Enabled implements logr.LogSink.
func (s *zapSink) Enabled(level int) bool {
	return s.log.Core().Enabled(zapLevel(level))
}

// Info implements logr.LogSink.
func (s *zapSink) Info(level int, msg string, keysAndValues ...any) {
	if ce := s.log.Check(zapLevel(level), msg); ce != nil {
		ce.Write(fields(keysAndValues)...)
	}
}

// Error implements logr.LogSink; klog's error lines come with a nil err.
func (s *zapSink) Error(err error, msg string, keysAndValues ...any) {
	fs := fields(keysAndValues)
	if err != nil {
		fs = append(fs, zap.Error(err))
	}
	s.log.Error(msg, fs...)
}

// WithValues implements logr.LogSink.
func (s *zapSink) WithValues(keysAndValues ...any) logr.LogSink {
	return &zapSink{log: s.log.With(fields(keysAndValues)...)}
}

// WithName implements logr.LogSink.
func (s *zapSink) WithName(name string) logr.LogSink {
	return &zapSink{log: s.log.Named(name)}
}

// zapLevel is the zap level of a logr verbosity level.
func zapLevel(level int) zapcore.Level {
	if level > 0 {
		return zapcore.DebugLevel
	}
	return zapcore.InfoLevel
}

// fields turns logr's alternating keys and values into zap fields; a key
// that is not a string is printed with fmt, and a key without a value gets
// "(MISSING)".
func fields(keysAndValues []any) []zap.Field {
	fs := make([]zap.Field, 0, len(keysAndValues)/2+1)
	for i := 0; i < len(keysAndValues); i += 2 {
		key, ok := keysAndValues[i].(string)
		if !ok {
			key = fmt.Sprint(keysAndValues[i])
		}
		if i+1 == len(keysAndValues) {
			fs = append(fs, zap.String(key, "(MISSING)"))
			break
		}
		fs = append(fs, zap.Any(key, keysAndValues[i+1]))
	}
	return fs
}
