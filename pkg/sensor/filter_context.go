package sensor

import (
	"context"
	"fmt"
	"strconv"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
)

// contextFilter passes events whose context equals the non-empty fields among
// type, subject, source and datacontenttype (id, specversion and time are
// not compared, as in Argo Events).
type contextFilter struct {
	fields []contextField
}

type contextField struct {
	name string
	want string
	get  func(*event.Context) string
}

// newContextFilter compiles a context filter; a problem is at `context`.
func newContextFilter(c *v1alpha1.EventContext) (*contextFilter, *apis.FieldError) {
	f := &contextFilter{}
	for _, fld := range []contextField{
		{"type", c.Type, func(c *event.Context) string { return c.Type }},
		{"subject", c.Subject, func(c *event.Context) string { return c.Subject }},
		{"source", c.Source, func(c *event.Context) string { return c.Source }},
		{"datacontenttype", c.DataContentType, func(c *event.Context) string { return c.DataContentType }},
	} {
		if fld.want != "" {
			f.fields = append(f.fields, fld)
		}
	}
	if len(f.fields) == 0 {
		return nil, apis.ErrGeneric("expected at least one of type, subject, source, datacontenttype", "context")
	}
	return f, nil
}

func (f *contextFilter) eval(_ context.Context, in *input) verdict {
	for _, fld := range f.fields {
		got := fld.get(&in.ev.Context)
		if got != fld.want {
			v := verdict{reason: fmt.Sprintf("context filter %s: %q is not %q", fld.name, got, fld.want)}
			in.record(fld.check(got, CheckFail, v.reason))
			return v
		}
		if in.explaining() {
			in.record(fld.check(got, CheckPass, fmt.Sprintf("context filter %s: %q is %q", fld.name, got, fld.want)))
		}
	}
	return verdict{pass: true}
}

// check explains the comparison of one context attribute.
func (fld *contextField) check(got string, res CheckResult, msg string) FilterCheck {
	return FilterCheck{Filter: "filters.context." + fld.name, Path: fld.name, Found: strconv.Quote(got),
		Comparator: "=", Want: strconv.Quote(fld.want), Result: res, Message: msg}
}
