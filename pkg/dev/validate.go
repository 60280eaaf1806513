package dev

import (
	"context"

	"github.com/flintevents/flint/pkg/manifest"
	"github.com/flintevents/flint/pkg/manifest/document"
)

// Validate is the one load path `flint validate` and `flint dev` share: on a
// set that manifest.Check already decoded, defaulted and validated, it builds
// every object free of problems exactly as Run would (Check) and locates what
// it finds at the objects' origins. problems are errors; notRunnable are the
// types this build cannot run yet, which validate prints as warnings and dev
// refuses. checked are the problems manifest.Check reported, whose objects
// are not built again.
func Validate(ctx context.Context, set *manifest.Set, checked manifest.Problems, opts Options) (problems, notRunnable manifest.Problems) {
	built := Check(ctx, ObjectsOf(set, Locations(checked)), opts)
	return Locate(set, built)
}

// ObjectsOf returns the objects of set, leaving out those whose origin is in skip.
func ObjectsOf(set *manifest.Set, skip map[string]bool) Objects {
	var objs Objects
	for i := range set.Objects {
		o := &set.Objects[i]
		if skip[o.Origin.String()] {
			continue
		}
		switch {
		case o.EventSource != nil:
			objs.EventSources = append(objs.EventSources, o.EventSource)
		case o.Sensor != nil:
			objs.Sensors = append(objs.Sensors, o.Sensor)
		case o.Broker != nil:
			objs.Brokers = append(objs.Brokers, o.Broker)
		case o.Trigger != nil:
			objs.Triggers = append(objs.Triggers, o.Trigger)
		}
	}
	return objs
}

// Locate turns problems found while building into manifest problems at the
// objects' origins, split into errors and not-runnable types.
func Locate(set *manifest.Set, built Problems) (problems, notRunnable manifest.Problems) {
	for _, p := range built {
		origin := manifest.Origin{File: "-f"}
		for i := range set.Objects {
			o := &set.Objects[i]
			if o.Kind == p.Kind && o.Namespace() == p.Namespace && o.Name() == p.Name {
				origin = o.Origin
				break
			}
		}
		ps := document.FieldErrorProblems(origin, p.Err)
		if p.NotRunnable {
			notRunnable = append(notRunnable, ps...)
		} else {
			problems = append(problems, ps...)
		}
	}
	return problems, notRunnable
}

// Locations is the set of origins ("file#doc") that have a problem.
func Locations(ps manifest.Problems) map[string]bool {
	bad := make(map[string]bool, len(ps))
	for _, p := range ps {
		bad[p.Location()] = true
	}
	return bad
}
