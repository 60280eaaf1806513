package sensor

import (
	"context"
	"fmt"
	"time"
	_ "time/tzdata" // time zone names resolve without a system zoneinfo database

	"knative.dev/pkg/apis"

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

// parseClock reads a time of day at field.
func parseClock(s, field string) (clock, *apis.FieldError) {
	if s == "" {
		return clock{}, apis.ErrMissingField(field)
	}
	t, err := time.Parse(time.TimeOnly, s)
	if err != nil {
		return clock{}, apis.ErrInvalidValue(s, field, "must be hh:mm:ss")
	}
	return clock{t.Hour(), t.Minute(), t.Second(), t.Nanosecond()}, nil
}

// newTimeFilter compiles a time filter; problem paths are relative to it.
func newTimeFilter(t *v1alpha1.TimeFilter) (*timeFilter, *apis.FieldError) {
	f := &timeFilter{loc: time.UTC}
	var serr, perr *apis.FieldError
	f.start, serr = parseClock(t.Start, "start")
	f.stop, perr = parseClock(t.Stop, "stop")
	errs := serr.Also(perr)
	if t.Timezone != "" {
		loc, err := time.LoadLocation(t.Timezone)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(t.Timezone, "timezone", "unknown time zone"))
		} else {
			f.loc = loc
		}
	}
	if serr == nil && perr == nil && f.start == f.stop {
		errs = errs.Also(apis.ErrGeneric("start and stop must differ", "start", "stop"))
	}
	return f, errs
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
	window := fmt.Sprintf("[%s, %s)", f.start, f.stop)
	found := at.Format(time.TimeOnly) + " " + f.loc.String()
	if pass {
		if in.explaining() {
			in.record(FilterCheck{Filter: "filters.time", Path: "time", Found: found, Comparator: "in", Want: window,
				Result: CheckPass, Message: "time filter: " + found + " is in " + window})
		}
		return verdict{pass: true}
	}
	v := verdict{reason: "time filter: " + found + " is not in " + window}
	in.record(FilterCheck{Filter: "filters.time", Path: "time", Found: found, Comparator: "in", Want: window,
		Result: CheckFail, Message: v.reason})
	return v
}
