package bus

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of a message in a trigger's retry lane.
const (
	headerRetryAttempt = "Flint-Retry-Attempt"
	headerRetryAt      = "Flint-Retry-At"
	headerRetryOrigin  = "Flint-Retry-Origin"
	headerRetryCode    = "Flint-Retry-Code"
	headerRetryError   = "Flint-Retry-Error"
)

// Retry is what a message of a trigger's retry lane says about the delivery it waits
// for; the message's data is the stored event, as on the broker subject.
type Retry struct {
	// Attempt numbers the delivery from 1; past the subscriber's attempts it counts
	// the tries of the dead-letter sink.
	Attempt int
	// At is when the delivery is due.
	At time.Time
	// Origin is the event's sequence on the broker subject, where it arrived.
	Origin uint64
	// DeadLettering marks a delivery to the dead-letter sink of the failure Code and Error.
	DeadLettering bool
	Code          int
	Error         string
}

// RetryMsg is the message that puts an event in a trigger's retry lane. Its
// de-duplication key is the trigger, the event's origin and the attempt, so a move
// repeated after a crash is stored once.
func RetryMsg(namespace, broker, trigger string, r Retry, data []byte) *nats.Msg {
	h := nats.Header{}
	h.Set(jetstream.MsgIDHeader, hashID("retry", namespace, broker, trigger, strconv.FormatUint(r.Origin, 10), strconv.Itoa(r.Attempt)))
	h.Set(headerRetryAttempt, strconv.Itoa(r.Attempt))
	h.Set(headerRetryAt, strconv.FormatInt(r.At.UnixMilli(), 10))
	h.Set(headerRetryOrigin, strconv.FormatUint(r.Origin, 10))
	if r.DeadLettering {
		h.Set(headerRetryCode, strconv.Itoa(r.Code))
		h.Set(headerRetryError, oneLine(r.Error))
	}
	return &nats.Msg{Subject: RetrySubject(namespace, broker, trigger), Header: h, Data: data}
}

// ReadRetry reads the headers of a retry lane message.
func ReadRetry(h nats.Header) (Retry, error) {
	var r Retry
	var errs []error
	var err error
	if r.Attempt, err = strconv.Atoi(h.Get(headerRetryAttempt)); err != nil || r.Attempt < 1 {
		errs = append(errs, fmt.Errorf("%s %q is not an attempt number", headerRetryAttempt, h.Get(headerRetryAttempt)))
	}
	at, err := strconv.ParseInt(h.Get(headerRetryAt), 10, 64)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s %q is not a time", headerRetryAt, h.Get(headerRetryAt)))
	}
	r.At = time.UnixMilli(at)
	if r.Origin, err = strconv.ParseUint(h.Get(headerRetryOrigin), 10, 64); err != nil {
		errs = append(errs, fmt.Errorf("%s %q is not a sequence", headerRetryOrigin, h.Get(headerRetryOrigin)))
	}
	if code := h.Get(headerRetryCode); code != "" {
		r.DeadLettering = true
		r.Code, _ = strconv.Atoi(code)
		r.Error = h.Get(headerRetryError)
	}
	return r, errors.Join(errs...)
}

// oneLine makes s a header value: its line breaks become " / ", as the engine joins
// the errors of several triggers.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " / ")
}
