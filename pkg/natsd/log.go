package natsd

import (
	"fmt"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// serverLog makes what the embedded nats-server logs lines of a zap logger: its
// warnings and errors (a damaged store found at start among them) at those levels,
// its notices (the start banner, listeners) and debug lines at debug level. Trace
// lines (every protocol message) are never asked for.
type serverLog struct {
	log *zap.Logger
}

var _ server.Logger = serverLog{}

// Noticef implements server.Logger.
func (l serverLog) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }

// Warnf implements server.Logger.
func (l serverLog) Warnf(format string, v ...any) { l.log.Warn(fmt.Sprintf(format, v...)) }

// Fatalf implements server.Logger; a fatal condition of the server is an error of
// flint's process, which decides itself whether to stop.
func (l serverLog) Fatalf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }

// Errorf implements server.Logger.
func (l serverLog) Errorf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }

// Debugf implements server.Logger.
func (l serverLog) Debugf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }

// Tracef implements server.Logger.
func (l serverLog) Tracef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }

// setLogger routes ns's log lines to log; debug lines are produced only when log
// writes them.
func setLogger(ns *server.Server, log *zap.Logger) {
	if log == nil {
		return
	}
	ns.SetLoggerV2(serverLog{log: log}, log.Core().Enabled(zapcore.DebugLevel), false, false)
}
