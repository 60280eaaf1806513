package sources

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/flintevents/flint/sources/filter"
	"github.com/flintevents/flint/sources/receiver"
)

// Push ends a request to entry p: it drops the event when p.Filter does not
// pass it (counted in p.Metrics), else emits it, and answers the caller 200
// "success" only once the broker stored the event (or the filter dropped
// it); 413 naming the broker's limit when the broker refused the event for
// its size (ErrEventTooLarge); 504 when the broker did not confirm it within
// StoreTimeout (ErrNotConfirmed: it may be stored); else 503 with Retry-After,
// as the event surely was not stored, so the caller retries and nothing
// accepted is lost. The store runs to its end even if the caller goes away.
// fields are added to the entry's log lines.
func (p *PushEntry) Push(w http.ResponseWriter, req *http.Request, emit Emitter, ev Event, fields ...any) {
	log := p.Log
	if log == nil {
		log = zap.NewNop().Sugar()
	}
	// The body is read: filtering and storing no longer depend on the caller's
	// connection. A caller that half-closes or hangs up ends the request's
	// context, yet its event must be stored or surely not, never stored behind
	// a 503 its retry would duplicate (nor dropped by a filter cut short).
	detached, stop := receiver.Detached(req)
	defer stop()
	ctx, cancel := context.WithTimeout(detached, StoreTimeout)
	defer cancel()
	if f := p.Filter; f != nil {
		if pass, err := f.MatchContext(ctx, ev.Data, filter.DefaultTimeout); !pass {
			reason := "expression is false"
			if err != nil {
				reason = err.Error()
			}
			p.Metrics.Filtered()
			log.Debugw("event dropped by filter", append(fields, "filter", f.String(), "reason", reason)...)
			receiver.Reply(w, http.StatusOK, "success")
			return
		}
	}
	if ev.ID == "" {
		ev.ID = NewID() // minted here so the log lines carry it
	}
	fields = append(fields, "eventID", ev.ID)
	if err := emit(ctx, ev); err != nil {
		status, msg, retryAfter := replyFor(err)
		switch {
		case status == http.StatusGatewayTimeout:
			log.Errorw("event not confirmed by the broker; it may be recorded", append(fields, "error", err)...)
		case status != http.StatusServiceUnavailable:
			log.Infow("event refused by the broker", append(fields, "status", status, "error", err)...)
		case p.Refusals != nil:
			p.Refusals.Error(cause(err), "event not recorded", append(zapFields(fields), zap.Error(err))...)
		default:
			log.Errorw("event not recorded", append(fields, "error", err)...)
		}
		setRetryAfter(w.Header(), retryAfter)
		receiver.Reply(w, status, msg)
		return
	}
	log.Infow("event recorded", fields...)
	receiver.Reply(w, http.StatusOK, "success")
}

// StoreTimeout bounds how long a push request waits, once its body is read,
// for the broker to store its event: a broker that stays unreachable or
// silent this long is answered 503 or 504.
const StoreTimeout = 30 * time.Second

// NewID mints an event id: 32 random hex digits.
func NewID() string {
	u := uuid.New()
	return hex.EncodeToString(u[:])
}

// cause is the innermost error of err's chain: the reason an event was not
// stored, without the event's id the outer errors name.
func cause(err error) string {
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err.Error()
		}
		err = inner
	}
}

// zapFields turns the key-value pairs of a sugared log line into fields.
func zapFields(kv []any) []zap.Field {
	fields := make([]zap.Field, 0, len(kv)/2+1)
	for i := 0; i+1 < len(kv); i += 2 {
		fields = append(fields, zap.Any(fmt.Sprint(kv[i]), kv[i+1]))
	}
	return fields
}
