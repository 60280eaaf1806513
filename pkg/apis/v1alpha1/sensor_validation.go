package v1alpha1

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"knative.dev/pkg/apis"
)

// Validate checks a Sensor's structure as Argo Events' admission and
// controller do, and more: every problem is reported, each with its field
// path (spec.…). Code the sensor runs (conditions, Lua scripts, jq, Go
// templates, regular expressions, cron schedules) is checked where it is
// compiled, by the sensor engine, with the same paths.
func (s *Sensor) Validate(ctx context.Context) *apis.FieldError {
	errs := validateObjectName(s.Name, s.Namespace)
	return errs.Also(s.Spec.Validate(ctx).ViaField("spec"))
}

// Validate checks a SensorSpec; paths are relative to the spec.
func (s *SensorSpec) Validate(ctx context.Context) *apis.FieldError {
	var errs *apis.FieldError
	if s.Replicas != nil && *s.Replicas < 0 {
		errs = errs.Also(apis.ErrInvalidValue(*s.Replicas, "replicas", "must not be negative"))
	}
	if s.RevisionHistoryLimit != nil && *s.RevisionHistoryLimit < 0 {
		errs = errs.Also(apis.ErrInvalidValue(*s.RevisionHistoryLimit, "revisionHistoryLimit", "must not be negative"))
	}
	errs = errs.Also(requireList(len(s.Dependencies), "dependencies"))
	deps := map[string]int{}
	for i := range s.Dependencies {
		d := &s.Dependencies[i]
		errs = errs.Also(d.Validate(ctx).ViaFieldIndex("dependencies", i))
		if d.Name == "" {
			continue
		}
		if j, dup := deps[d.Name]; dup {
			errs = errs.Also(apis.ErrGeneric(
				fmt.Sprintf("duplicate dependency name %q (also dependencies[%d])", d.Name, j), "name").
				ViaFieldIndex("dependencies", i))
			continue
		}
		deps[d.Name] = i
	}
	errs = errs.Also(requireList(len(s.Triggers), "triggers"))
	names := map[string]int{}
	for i := range s.Triggers {
		t := &s.Triggers[i]
		errs = errs.Also(t.validate(deps, false).ViaFieldIndex("triggers", i))
		if t.Template == nil || t.Template.Name == "" {
			continue
		}
		if j, dup := names[t.Template.Name]; dup {
			errs = errs.Also(apis.ErrGeneric(
				fmt.Sprintf("duplicate trigger name %q (also triggers[%d])", t.Template.Name, j), "template.name").
				ViaFieldIndex("triggers", i))
			continue
		}
		names[t.Template.Name] = i
	}
	return errs
}

// Validate checks one dependency; paths are relative to it.
func (d *EventDependency) Validate(_ context.Context) *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(
		requireString(d.Name, "name"),
		requireString(d.EventSourceName, "eventSourceName"),
		requireString(d.EventName, "eventName"),
		validateLogicalOperator(d.FiltersLogicalOperator, "filtersLogicalOperator"),
	)
	if d.Filters != nil {
		errs = errs.Also(d.Filters.validate().ViaField("filters"))
	}
	if t := d.Transform; t != nil {
		var terrs *apis.FieldError
		if t.JQ == "" && t.Script == "" {
			terrs = expectedAnyOf("jq", "script")
		}
		errs = errs.Also(terrs.ViaField("transform"))
	}
	return errs
}

func (f *EventDependencyFilter) validate() *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(
		validateLogicalOperator(f.DataLogicalOperator, "dataLogicalOperator"),
		validateLogicalOperator(f.ExprLogicalOperator, "exprLogicalOperator"),
	)
	if f.Time != nil {
		errs = errs.Also(f.Time.validate().ViaField("time"))
	}
	if c := f.Context; c != nil {
		if c.Type == "" && c.Subject == "" && c.Source == "" && c.DataContentType == "" {
			errs = errs.Also(apis.ErrGeneric(
				"expected at least one of type, subject, source, datacontenttype", "context"))
		}
	}
	for i := range f.Data {
		errs = errs.Also(f.Data[i].validate().ViaFieldIndex("data", i))
	}
	for i := range f.Exprs {
		errs = errs.Also(f.Exprs[i].validate().ViaFieldIndex("exprs", i))
	}
	return errs
}

func (t *TimeFilter) validate() *apis.FieldError {
	var errs *apis.FieldError
	start, serr := parseClock(t.Start, "start")
	stop, perr := parseClock(t.Stop, "stop")
	errs = errs.Also(serr, perr, validateTimezone(t.Timezone, "timezone"))
	if serr == nil && perr == nil && start == stop {
		errs = errs.Also(apis.ErrGeneric("start and stop must differ", "start", "stop"))
	}
	return errs
}

func parseClock(v, field string) (time.Duration, *apis.FieldError) {
	if v == "" {
		return 0, apis.ErrMissingField(field)
	}
	t, err := time.Parse("15:04:05", v)
	if err != nil {
		return 0, apis.ErrInvalidValue(v, field, "must be hh:mm:ss")
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second, nil
}

var comparators = []string{"", ">=", ">", "=", "!=", "<", "<="}

func (d *DataFilter) validate() *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(
		requireString(d.Path, "path"),
		oneOf(string(d.Comparator), "comparator", comparators),
	)
	if d.Type == "" {
		errs = errs.Also(apis.ErrMissingField("type"))
	} else {
		errs = errs.Also(oneOf(string(d.Type), "type",
			[]string{string(JSONTypeString), string(JSONTypeNumber), string(JSONTypeBool)}))
	}
	if len(d.Value) == 0 {
		return errs.Also(apis.ErrMissingField("value"))
	}
	for i, v := range d.Value {
		switch d.Type {
		case JSONTypeNumber:
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				errs = errs.Also(apis.ErrInvalidValue(v, apis.CurrentField, "must be a number").ViaIndex(i).ViaField("value"))
			}
		case JSONTypeBool:
			if _, err := strconv.ParseBool(v); err != nil {
				errs = errs.Also(apis.ErrInvalidValue(v, apis.CurrentField, "must be true or false").ViaIndex(i).ViaField("value"))
			}
		}
	}
	return errs
}

func (e *ExprFilter) validate() *apis.FieldError {
	var errs *apis.FieldError
	errs = errs.Also(requireString(e.Expr, "expr"), requireList(len(e.Fields), "fields"))
	for i, f := range e.Fields {
		var ferrs *apis.FieldError
		ferrs = ferrs.Also(requireString(f.Path, "path"), requireString(f.Name, "name"))
		errs = errs.Also(ferrs.ViaFieldIndex("fields", i))
	}
	return errs
}
