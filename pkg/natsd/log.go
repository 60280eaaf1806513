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
	log    *zap.Logger
	onLoss func(Loss)
}

// Loss is a consumer the server found, while recovering a damaged store, to have
// been handed messages up to a sequence its stream no longer reaches: the
// messages after the stream's last sequence were lost. The server then moves the
// consumer back, so its state no longer shows it.
type Loss struct {
	// Stream and Consumer name the consumer.
	Stream, Consumer string
	// Delivered is the last sequence the consumer had been handed, LastSeq the
	// stream's last sequence after recovery.
	Delivered, LastSeq uint64
}

// consumerPastLastSeq is the format of the server's warning about a consumer
// handed messages past its recovered stream's last sequence: account, stream,
// consumer, the consumer's delivered sequence, the stream's last sequence.
const consumerPastLastSeq = "JetStream consumer '%s > %s > %s' delivered sequence %d past last stream sequence of %d"

var _ server.Logger = serverLog{}

// Noticef implements server.Logger.
func (l serverLog) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }

// Warnf implements server.Logger; a consumer handed messages past its recovered
// stream's end is also reported to onLoss.
func (l serverLog) Warnf(format string, v ...any) {
	l.log.Warn(fmt.Sprintf(format, v...))
	if format != consumerPastLastSeq || l.onLoss == nil || len(v) != 5 {
		return
	}
	stream, ok1 := v[1].(string)
	consumer, ok2 := v[2].(string)
	delivered, ok3 := v[3].(uint64)
	last, ok4 := v[4].(uint64)
	if ok1 && ok2 && ok3 && ok4 {
		l.onLoss(Loss{Stream: stream, Consumer: consumer, Delivered: delivered, LastSeq: last})
	}
}

// Fatalf implements server.Logger; a fatal condition of the server is an error of
// flint's process, which decides itself whether to stop.
func (l serverLog) Fatalf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }

// Errorf implements server.Logger.
func (l serverLog) Errorf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }

// Debugf implements server.Logger.
func (l serverLog) Debugf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }

// Tracef implements server.Logger.
func (l serverLog) Tracef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }

// setLogger routes ns's log lines to log, and the losses it finds to onLoss (when
// set); debug lines are produced only when log writes them.
func setLogger(ns *server.Server, log *zap.Logger, onLoss func(Loss)) {
	if log == nil {
		log = zap.NewNop()
	}
	ns.SetLoggerV2(serverLog{log: log, onLoss: onLoss}, log.Core().Enabled(zapcore.DebugLevel), false, false)
}
