package sensor

import (
	"context"
	"errors"
)

// ErrPermanent is wrapped, beside ErrTriggerFailed, by the error Handle
// returns for an event no redelivery can help: every trigger round it
// failed, failed to resolve from the event itself (a parameter whose path
// the event lacks, data that is not valid JSON or is nested too deep, a
// template that fails on the event's data). The broker dead-letters such an
// event at once instead of retrying it.
var ErrPermanent = errors.New("cannot succeed on a redelivery")

// unresolvable marks the failure of a trigger to resolve its spec,
// parameters or payload from an event: the same event fails the same way
// every time.
type unresolvable struct{ err error }

func (e *unresolvable) Error() string { return e.err.Error() }

func (e *unresolvable) Unwrap() error { return e.err }

// unresolvableFrom marks err, a failure to resolve a trigger from events,
// as one no redelivery can mend, unless it came of something else than the
// event: the delivery's context ending, or an evaluation budget (time or
// memory) running out, which a less loaded process may not hit.
func unresolvableFrom(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, ErrEvalTimeout) || errors.Is(err, ErrEvalMemory) {
		return err
	}
	return &unresolvable{err: err}
}

// permanent reports whether every failure err holds is unresolvable: err is
// one, wraps one, or joins errors that all are. A trigger's failure joined
// with its dlqTrigger's is permanent only when both are; an event's rounds
// only when all failed that way.
func permanent(err error) bool {
	for err != nil {
		switch e := err.(type) {
		case *unresolvable:
			return true
		case interface{ Unwrap() []error }:
			errs := e.Unwrap()
			for _, inner := range errs {
				if !permanent(inner) {
					return false
				}
			}
			return len(errs) > 0
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		default:
			return false
		}
	}
	return false
}
