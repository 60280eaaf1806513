package nsq

import (
	"strings"
	"sync/atomic"

	"github.com/nsqio/go-nsq"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// nsqLogger writes go-nsq's log lines of one level to a zap logger.
type nsqLogger struct {
	log     *zap.Logger
	level   zapcore.Level
	missing *atomic.Bool // a missing topic was logged at warn
}

// Output implements go-nsq's logger. nsqlookupd answers TOPIC_NOT_FOUND,
// which go-nsq logs as an error at every poll, until the topic's first
// message or its creation: the first such line is a warning, the rest debug.
func (l nsqLogger) Output(_ int, s string) error {
	level := l.level
	if strings.Contains(s, "TOPIC_NOT_FOUND") {
		level = zapcore.DebugLevel
		if !l.missing.Swap(true) {
			level = zapcore.WarnLevel
			s = "the topic does not exist yet; waiting for it: " + s
		}
	}
	if ce := l.log.Check(level, s); ce != nil {
		ce.Write()
	}
	return nil
}

// setLogger sends c's log to log: go-nsq's debug and info lines at debug,
// its warnings and errors at their level. go-nsq formats only the lines
// log writes.
func setLogger(c *nsq.Consumer, log *zap.Logger) {
	log = log.WithOptions(zap.AddCallerSkip(2)).Named("go-nsq")
	missing := new(atomic.Bool)
	c.SetLoggerForLevel(nsqLogger{log, zapcore.DebugLevel, missing}, nsq.LogLevelDebug)
	c.SetLoggerForLevel(nsqLogger{log, zapcore.DebugLevel, missing}, nsq.LogLevelInfo)
	c.SetLoggerForLevel(nsqLogger{log, zapcore.WarnLevel, missing}, nsq.LogLevelWarning)
	c.SetLoggerForLevel(nsqLogger{log, zapcore.ErrorLevel, missing}, nsq.LogLevelError)
	if log.Core().Enabled(zapcore.DebugLevel) {
		c.SetLoggerLevel(nsq.LogLevelDebug)
	} else {
		c.SetLoggerLevel(nsq.LogLevelWarning)
	}
}
