package sensor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// timeFilter passes events whose time of day, in its time zone, is in
// [start, stop); when stop is before start the window wraps past midnight.
type timeFilter struct {
	start, stop clock
	loc         *time.Location
}

// clock is a time of day.
type clock struct{ h, m, s, ns int }

func (c clock) String() string { return fmt.Sprintf("%02d:%02d:%02d", c.h, c.m, c.s) }

func parseClock(s string) (clock, error) {
	t, err := time.Parse(time.TimeOnly, s)
	if err != nil {
		return clock{}, fmt.Errorf("%q is not hh:mm:ss", s)
	}
	return clock{t.Hour(), t.Minute(), t.Second(), t.Nanosecond()}, nil
}

func newTimeFilter(t *v1alpha1.TimeFilter) (*timeFilter, error) {
	var errs []error
	f := &timeFilter{loc: time.UTC}
	var err error
	if f.start, err = parseClock(t.Start); err != nil {
		errs = append(errs, atField("start", err))
	}
	if f.stop, err = parseClock(t.Stop); err != nil {
		errs = append(errs, atField("stop", err))
	}
	if t.Timezone != "" {
		if f.loc, err = time.LoadLocation(t.Timezone); err != nil {
			errs = append(errs, atField("timezone", fmt.Errorf("invalid timezone %q: %w", t.Timezone, err)))
		}
	}
	if len(errs) == 0 && f.start == f.stop {
		errs = append(errs, atField("stop", fmt.Errorf("equal to start %s", t.Start)))
	}
	return f, errors.Join(errs...)
}

// eval places start and stop on the event's date in the filter's time zone,
// as Argo Events does, and compares the event time with them.
func (f *timeFilter) eval(_ context.Context, in *input) verdict {
	at := in.ev.Context.Time.In(f.loc)
	y, mo, d := at.Date()
	start := time.Date(y, mo, d, f.start.h, f.start.m, f.start.s, f.start.ns, f.loc)
	stop := time.Date(y, mo, d, f.stop.h, f.stop.m, f.stop.s, f.stop.ns, f.loc)
	var pass bool
	if start.Before(stop) {
		pass = !at.Before(start) && at.Before(stop)
	} else {
		pass = !at.Before(start) || at.Before(stop)
	}
	if pass {
		return verdict{pass: true}
	}
	return verdict{reason: fmt.Sprintf("time filter: %s %s is not in [%s, %s)",
		at.Format(time.TimeOnly), f.loc, f.start, f.stop)}
}
