package sensor

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/jsonlimit"
)

// dataFilters are the data filters of a dependency and how they combine.
type dataFilters struct {
	or      bool
	filters []*dataFilter
}

// dataFilter compares the value at a gjson path of the event data with a list
// of values, as Argo Events' DataFilter does.
type dataFilter struct {
	path    string
	typ     v1alpha1.JSONType
	cmp     v1alpha1.Comparator
	values  []string // as written, for reasons
	regexps []*regexp.Regexp
	numbers []float64
	bools   []bool
	tmpl    *userTemplate
}

// newDataFilters compiles the data filters; problem paths are relative to
// `filters` (`data[0].value[1]`, `dataLogicalOperator`).
func newDataFilters(fs []v1alpha1.DataFilter, op v1alpha1.LogicalOperator) (*dataFilters, *apis.FieldError) {
	or, errs := logicalOperator(op, "dataLogicalOperator")
	d := &dataFilters{or: or}
	for i := range fs {
		f, err := newDataFilter(&fs[i])
		if err != nil {
			errs = errs.Also(err.ViaFieldIndex("data", i))
			continue
		}
		d.filters = append(d.filters, f)
	}
	return d, errs
}

var comparators = []string{"", ">=", ">", "=", "!=", "<", "<="}

func newDataFilter(f *v1alpha1.DataFilter) (*dataFilter, *apis.FieldError) {
	errs := requireString(f.Path, "path").Also(oneOf(string(f.Comparator), "comparator", comparators...))
	d := &dataFilter{path: f.Path, typ: f.Type, cmp: f.Comparator, values: f.Value}
	if f.Type == "" {
		errs = errs.Also(apis.ErrMissingField("type"))
	} else {
		errs = errs.Also(oneOf(string(f.Type), "type",
			string(v1alpha1.JSONTypeString), string(v1alpha1.JSONTypeNumber), string(v1alpha1.JSONTypeBool)))
	}
	if len(f.Value) == 0 {
		errs = errs.Also(apis.ErrMissingField("value"))
	}
	for i, v := range f.Value {
		var verr *apis.FieldError
		if v == "" {
			errs = errs.Also(apis.ErrMissingField(apis.CurrentField).ViaIndex(i).ViaField("value"))
			continue
		}
		switch f.Type {
		case v1alpha1.JSONTypeString:
			re, err := regexp.Compile(v)
			if err != nil {
				verr = apis.ErrInvalidValue(v, apis.CurrentField, err.Error())
			}
			d.regexps = append(d.regexps, re)
		case v1alpha1.JSONTypeNumber:
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				verr = apis.ErrInvalidValue(v, apis.CurrentField, "must be a number")
			}
			d.numbers = append(d.numbers, n)
		case v1alpha1.JSONTypeBool:
			b, err := strconv.ParseBool(v)
			if err != nil {
				verr = apis.ErrInvalidValue(v, apis.CurrentField, "must be true or false")
			}
			d.bools = append(d.bools, b)
		}
		errs = errs.Also(verr.ViaIndex(i).ViaField("value"))
	}
	if f.Template != "" {
		t, err := compileTemplate("data", f.Template)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(f.Template, "template", err.Error()))
		}
		d.tmpl = t
	}
	return d, errs
}

// eval runs the data filters on the event data; no data (nil or empty)
// passes, as in Argo Events, and data that is not JSON or is nested deeper
// than jsonlimit.DefaultMaxDepth fails. With "and" the first error or
// mismatch decides; with "or" the first match passes and otherwise the
// errors, if any, are the result.
func (d *dataFilters) eval(ctx context.Context, in *input) verdict {
	if len(in.ev.Data) == 0 {
		in.record(noDataCheck("filters.data", "data filters"))
		return verdict{pass: true}
	}
	if err := checkData(in); err != nil {
		v := verdict{err: fmt.Errorf("data filters: %w", err)}
		in.record(FilterCheck{Filter: "filters.data", Result: CheckError, Message: v.err.Error()})
		return v
	}
	var errs []error
	var reasons []string
	for i, f := range d.filters {
		v := f.eval(ctx, in.json())
		if in.explaining() {
			in.record(f.check(ctx, i, in.json(), v))
		}
		switch {
		case v.err != nil && !d.or:
			return v
		case v.err != nil:
			errs = append(errs, v.err)
		case v.pass && d.or:
			return v
		case !v.pass && !d.or:
			return v
		case !v.pass:
			reasons = append(reasons, v.reason)
		}
	}
	if !d.or {
		return verdict{pass: true}
	}
	if len(errs) > 0 {
		return verdict{err: joinErrors(errs)}
	}
	return verdict{reason: strings.Join(reasons, " / ")}
}

// errDataTooDeep fails the evaluations of event data nested deeper than
// jsonlimit.DefaultMaxDepth levels.
var errDataTooDeep = fmt.Errorf("event data is nested more than %d levels deep: %w", jsonlimit.DefaultMaxDepth, jsonlimit.ErrTooDeep)

// checkData checks the event data once for every filter that reads it as
// JSON, in one linear pass: it must be valid and nested at most
// jsonlimit.DefaultMaxDepth levels, so that nothing recursive ever walks a
// hostile nesting. in.valid keeps the outcome, -2 standing for too deep.
func checkData(in *input) error {
	if in.valid == 0 {
		in.valid = 1
		if err := jsonlimit.Check(in.json(), jsonlimit.DefaultMaxDepth); errors.Is(err, jsonlimit.ErrTooDeep) {
			in.valid = -2
		} else if err != nil {
			in.valid = -1
		}
	}
	switch in.valid {
	case -1:
		return ErrDataNotJSON
	case -2:
		return errDataTooDeep
	}
	return nil
}

// eval runs one data filter on JSON data.
func (f *dataFilter) eval(ctx context.Context, data []byte) verdict {
	res, err := f.value(ctx, data)
	if err != nil {
		return verdict{err: err}
	}
	switch f.typ {
	case v1alpha1.JSONTypeBool:
		got := res.Bool()
		for _, b := range f.bools {
			if b == got {
				return verdict{pass: true}
			}
		}
		return f.fail("%t does not equal %s", got, f.list())
	case v1alpha1.JSONTypeNumber:
		return f.evalNumber(res.Float())
	default:
		return f.evalString(res.String())
	}
}

// value is the value the filter compares: the one at its path, through its
// template when it has one.
func (f *dataFilter) value(ctx context.Context, data []byte) (gjson.Result, error) {
	res := gjson.GetBytes(data, f.path)
	if !res.Exists() {
		return res, fmt.Errorf("data filter %s: %w", f.path, ErrPathNotFound)
	}
	if f.tmpl != nil {
		out, err := renderTemplate(ctx, f.tmpl, res.String())
		if err != nil {
			return res, fmt.Errorf("data filter %s: template: %w", f.path, err)
		}
		res = gjson.Result{Type: gjson.String, Str: out, Raw: strconv.Quote(out)}
	}
	return res, nil
}

// check explains the verdict v of the filter at index i on data: the value
// found at the path and what it was compared with.
func (f *dataFilter) check(ctx context.Context, i int, data []byte, v verdict) FilterCheck {
	cmp := f.cmp
	if cmp == v1alpha1.EmptyComparator {
		cmp = v1alpha1.EqualTo
	}
	c := FilterCheck{Filter: fmt.Sprintf("filters.data[%d]", i), Path: f.path, Comparator: string(cmp),
		Want: f.list(), Type: string(f.typ)}
	res, err := f.value(ctx, data)
	if err == nil {
		c.Found = shortJSON(res.Raw)
	}
	switch {
	case v.err != nil:
		c.Result, c.Message = CheckError, v.err.Error()
	case !v.pass:
		c.Result, c.Message = CheckFail, v.reason
	default:
		c.Result, c.Message = CheckPass, "data filter "+f.path+": "+f.passed(res)
	}
	return c
}

// passed says why a value the filter passed did pass.
func (f *dataFilter) passed(res gjson.Result) string {
	switch f.typ {
	case v1alpha1.JSONTypeBool:
		got := res.Bool()
		for i, b := range f.bools {
			if b == got {
				return fmt.Sprintf("%t equals %s", got, f.values[i])
			}
		}
	case v1alpha1.JSONTypeNumber:
		got := res.Float()
		if f.cmp == v1alpha1.NotEqualTo {
			return fmt.Sprintf("%s equals none of %s (comparator !=)", formatNumber(got), f.list())
		}
		for i, n := range f.numbers {
			if compareNumbers(got, f.cmp, n) {
				cmp := f.cmp
				if cmp == v1alpha1.EmptyComparator {
					cmp = v1alpha1.EqualTo
				}
				return fmt.Sprintf("%s %s %s", formatNumber(got), cmp, f.values[i])
			}
		}
	default:
		got := res.String()
		if f.cmp == v1alpha1.NotEqualTo {
			return fmt.Sprintf("%s matches none of %s (comparator !=)", quoteValue(got), f.list())
		}
		for i, re := range f.regexps {
			if re.MatchString(got) {
				return fmt.Sprintf("%s matches %s", quoteValue(got), f.values[i])
			}
		}
	}
	return "passed"
}

// evalNumber compares a number; "!=" passes when the number equals none of
// the values, every other comparator when it holds for one of them.
func (f *dataFilter) evalNumber(got float64) verdict {
	if f.cmp == v1alpha1.NotEqualTo {
		for i, n := range f.numbers {
			if got == n {
				return f.fail("%s equals %s (comparator !=)", formatNumber(got), f.values[i])
			}
		}
		return verdict{pass: true}
	}
	for _, n := range f.numbers {
		if compareNumbers(got, f.cmp, n) {
			return verdict{pass: true}
		}
	}
	if f.cmp == v1alpha1.EqualTo || f.cmp == v1alpha1.EmptyComparator {
		return f.fail("%s does not equal %s", formatNumber(got), f.list())
	}
	return f.fail("%s is not %s %s", formatNumber(got), f.cmp, f.list())
}

// evalString matches a string against the regular expressions; "!=" passes
// when none matches, "=" (or none) when one matches, other comparators never pass.
func (f *dataFilter) evalString(got string) verdict {
	switch f.cmp {
	case v1alpha1.EqualTo, v1alpha1.EmptyComparator:
		for _, re := range f.regexps {
			if re.MatchString(got) {
				return verdict{pass: true}
			}
		}
		return f.fail("%s does not match %s", quoteValue(got), f.list())
	case v1alpha1.NotEqualTo:
		for i, re := range f.regexps {
			if re.MatchString(got) {
				return f.fail("%s matches %s (comparator !=)", quoteValue(got), f.values[i])
			}
		}
		return verdict{pass: true}
	default:
		return f.fail("comparator %s does not apply to type string", f.cmp)
	}
}

func (f *dataFilter) fail(format string, args ...any) verdict {
	return verdict{reason: "data filter " + f.path + ": " + fmt.Sprintf(format, args...)}
}

func (f *dataFilter) list() string {
	return "[" + strings.Join(f.values, " ") + "]"
}

// compareNumbers applies an ordering comparator, or equality for "=" and "".
func compareNumbers(a float64, cmp v1alpha1.Comparator, b float64) bool {
	switch cmp {
	case v1alpha1.GreaterThan:
		return a > b
	case v1alpha1.GreaterThanOrEqualTo:
		return a >= b
	case v1alpha1.LessThan:
		return a < b
	case v1alpha1.LessThanOrEqualTo:
		return a <= b
	default:
		return a == b
	}
}

func formatNumber(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// maxReasonValue bounds how much of an event value a reason quotes.
const maxReasonValue = 80

// quoteValue quotes an event value for a reason, shortened to maxReasonValue bytes.
func quoteValue(s string) string {
	if len(s) > maxReasonValue {
		cut := maxReasonValue
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
