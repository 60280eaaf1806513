// Package lograte limits how often a log line of one kind is written: the first
// line of a kind within a window is written, the others are counted, and one line
// at the end of the window says how many there were, so a flood of the same
// failure costs two lines per window instead of one per occurrence.
package lograte

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// DefaultWindow is the window of a Limiter made with a zero window.
const DefaultWindow = 10 * time.Second

// Limiter writes log lines of each kind (key) at most once per window, plus one
// summary line per window with the count of the lines it held back. It is safe
// for concurrent use; Close writes the pending summaries and stops its timers.
type Limiter struct {
	log    *zap.Logger
	window time.Duration

	mu     sync.Mutex
	kinds  map[string]*kind
	closed bool
}

// kind is the state of one key within its current window.
type kind struct {
	held   int           // lines held back in this window
	last   zapcore.Entry // the last line held back, repeated in the summary
	fields []zap.Field   // its fields
	timer  *time.Timer   // writes the summary at the end of the window
}

// New returns a Limiter writing to log; window is DefaultWindow when not positive.
func New(log *zap.Logger, window time.Duration) *Limiter {
	if log == nil {
		log = zap.NewNop()
	}
	if window <= 0 {
		window = DefaultWindow
	}
	return &Limiter{log: log, window: window, kinds: map[string]*kind{}}
}

// Error writes msg at error level unless a line of kind key was written within
// the window; then it is counted for the window's summary.
func (l *Limiter) Error(key, msg string, fields ...zap.Field) {
	l.Write(zapcore.ErrorLevel, key, msg, fields...)
}

// Warn is Error at warning level.
func (l *Limiter) Warn(key, msg string, fields ...zap.Field) {
	l.Write(zapcore.WarnLevel, key, msg, fields...)
}

// Write writes msg at lvl unless a line of kind key was written within the
// window; then it is counted, and the window's summary repeats the last such
// line with "(and N more like it in the last W)" and the count in field
// "suppressed". A nil Limiter writes nothing.
func (l *Limiter) Write(lvl zapcore.Level, key, msg string, fields ...zap.Field) {
	if l == nil || !l.log.Core().Enabled(lvl) {
		return
	}
	l.mu.Lock()
	k, seen := l.kinds[key]
	if !seen || l.closed {
		if !l.closed {
			l.kinds[key] = &kind{timer: time.AfterFunc(l.window, func() { l.endWindow(key) })}
		}
		l.mu.Unlock()
		l.log.Log(lvl, msg, fields...)
		return
	}
	k.held++
	k.last = zapcore.Entry{Level: lvl, Message: msg}
	k.fields = fields
	l.mu.Unlock()
}

// endWindow writes key's summary, if it held lines back, and forgets key so its
// next line is written at once.
func (l *Limiter) endWindow(key string) {
	l.mu.Lock()
	k := l.kinds[key]
	delete(l.kinds, key)
	l.mu.Unlock()
	if k != nil {
		l.summarize(k)
	}
}

// summarize writes the summary line of a window that held lines back.
func (l *Limiter) summarize(k *kind) {
	if k.held == 0 {
		return
	}
	msg := fmt.Sprintf("%s (and %s more like it in the last %s)", k.last.Message, thousands(k.held), l.window)
	l.log.Log(k.last.Level, msg, append(k.fields, zap.Int("suppressed", k.held))...)
}

// Close stops every window at once, writing the summaries of those that held
// lines back; lines written after Close are all written. It is safe to call
// more than once.
func (l *Limiter) Close() {
	if l == nil {
		return
	}
	l.mu.Lock()
	kinds := l.kinds
	l.kinds = map[string]*kind{}
	l.closed = true
	l.mu.Unlock()
	for _, k := range kinds {
		k.timer.Stop()
		l.summarize(k)
	}
}

// thousands formats n with a comma between groups of three digits: 1,234.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
