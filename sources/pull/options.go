package pull

import (
	"math/rand/v2"
	"time"

	"go.uber.org/zap"
)

// Options tune the runner for one entry; zero fields take the defaults below.
type Options struct {
	// Name is the entry name, the event name of every message.
	Name string
	// Logger logs reconnects and refused events; nil logs nothing.
	Logger *zap.Logger
	// InFlight bounds the messages being emitted at once (default 32).
	InFlight int
	// Ordered says the origin's acknowledgements are cumulative (kafka
	// offsets): acks go in receive order within a Message.Lane, and a failed
	// emit is retried until stored rather than handed back (see the package
	// documentation).
	Ordered bool
	// Attempts is how many times an event is emitted before its message is
	// handed back with Nack, without Ordered (default 3).
	Attempts int
	// Retry is the wait between two emits of one event (default 100ms
	// doubling up to 5s); its Steps is not read.
	Retry Schedule
	// Reconnect is the wait between two dials after a failed dial or
	// Receive (default 1s doubling up to 30s, forever). It is what an
	// entry's connectionBackoff says; Steps > 0 makes Run give up after
	// that many failures in a row.
	Reconnect Schedule
	// DialTimeout bounds one Dial (default 30s).
	DialTimeout time.Duration
	// AckTimeout bounds one Ack or Nack, also after the context ended: it is
	// the grace stored events have to be acknowledged (default 5s). Each call
	// has between nine tenths of it and all of it.
	AckTimeout time.Duration
	// Idle is how long Drain waits for a message before it asks the
	// consumer's backlog, or, without a Backlogger, takes the origin as
	// empty (default 1s).
	Idle time.Duration
}

// Defaults of Options.
const (
	DefaultInFlight    = 32
	DefaultAttempts    = 3
	DefaultDialTimeout = 30 * time.Second
	DefaultAckTimeout  = 5 * time.Second
	DefaultIdle        = time.Second
)

// Default schedules of Options.
var (
	DefaultRetry     = Schedule{First: 100 * time.Millisecond, Max: 5 * time.Second, Factor: 2}
	DefaultReconnect = Schedule{First: time.Second, Max: 30 * time.Second, Factor: 2}
)

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.InFlight <= 0 {
		o.InFlight = DefaultInFlight
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.Retry.First <= 0 {
		o.Retry = DefaultRetry
	}
	if o.Reconnect.First <= 0 {
		o.Reconnect = DefaultReconnect
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = DefaultAckTimeout
	}
	if o.Idle <= 0 {
		o.Idle = DefaultIdle
	}
	return o
}

// Schedule is a bounded exponential wait: First, multiplied by Factor after
// each failure, never over Max, with up to Jitter (a fraction) added. An
// entry's connectionBackoff (duration, factor, jitter, steps) reads into it.
type Schedule struct {
	// First is the first wait.
	First time.Duration
	// Max bounds every wait; 0 means no bound.
	Max time.Duration
	// Factor multiplies the wait after each failure; below 1 counts as 1.
	Factor float64
	// Jitter is the largest random fraction of a wait added to it.
	Jitter float64
	// Steps is how many failures in a row are borne; 0 means no limit.
	Steps int
}

// Wait is the wait after the failure numbered n (0 for the first).
func (s Schedule) Wait(n int) time.Duration {
	f := max(s.Factor, 1)
	d := float64(s.First)
	for i := 0; i < n; i++ {
		d *= f
		if s.Max > 0 && d >= float64(s.Max) {
			d = float64(s.Max)
			break
		}
	}
	if s.Max > 0 && d > float64(s.Max) {
		d = float64(s.Max)
	}
	if s.Jitter > 0 {
		d += d * s.Jitter * rand.Float64()
	}
	return time.Duration(d)
}

// exhausted reports whether n failures in a row are more than s bears.
func (s Schedule) exhausted(n int) bool { return s.Steps > 0 && n >= s.Steps }
