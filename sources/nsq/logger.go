package nsq

import (
	"github.com/nsqio/go-nsq"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// nsqLogger writes go-nsq's log lines of one level to a zap logger.
type nsqLogger struct {
	log   *zap.Logger
	level zapcore.Level
}

// Output implements go-nsq's logger.
func (l nsqLogger) Output(_ int, s string) error {
	if ce := l.log.Check(l.level, s); ce != nil {
		ce.Write()
	}
	return nil
}

// setLogger sends c's log to log: go-nsq's debug and info lines at debug,
// its warnings and errors at their level. go-nsq formats only the lines
// log writes.
func setLogger(c *nsq.Consumer, log *zap.Logger) {
	log = log.WithOptions(zap.AddCallerSkip(2)).Named("go-nsq")
	c.SetLoggerForLevel(nsqLogger{log, zapcore.DebugLevel}, nsq.LogLevelDebug)
	c.SetLoggerForLevel(nsqLogger{log, zapcore.DebugLevel}, nsq.LogLevelInfo)
	c.SetLoggerForLevel(nsqLogger{log, zapcore.WarnLevel}, nsq.LogLevelWarning)
	c.SetLoggerForLevel(nsqLogger{log, zapcore.ErrorLevel}, nsq.LogLevelError)
	if log.Core().Enabled(zapcore.DebugLevel) {
		c.SetLoggerLevel(nsq.LogLevelDebug)
	} else {
		c.SetLoggerLevel(nsq.LogLevelWarning)
	}
}
