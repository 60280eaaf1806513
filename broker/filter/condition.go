package filter

import (
	"cmp"
	"slices"
	"strings"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"knative.dev/pkg/apis"
)

// op is how a condition compares an attribute's value with the wanted one.
type op uint8

const (
	opEqual   op = iota // value == want
	opPrefix            // value starts with want
	opSuffix            // value ends with want
	opPresent           // value is present and non-empty; want is unused
)

// str applies o to a value held as a string.
func (o op) str(got, want string) bool {
	switch o {
	case opEqual:
		return got == want
	case opPrefix:
		return strings.HasPrefix(got, want)
	case opSuffix:
		return strings.HasSuffix(got, want)
	default:
		return got != ""
	}
}

// bytes applies o to a value rendered into a buffer; the string conversions
// below are comparisons the compiler performs without allocating.
func (o op) bytes(got []byte, want string) bool {
	switch o {
	case opEqual:
		return string(got) == want
	case opPrefix:
		return len(got) >= len(want) && string(got[:len(want)]) == want
	case opSuffix:
		return len(got) >= len(want) && string(got[len(got)-len(want):]) == want
	default:
		return len(got) > 0
	}
}

// condition is one attribute test.
type condition struct {
	attr attribute
	op   op
	want string
}

// conditions is a Filter that passes when every condition holds; it is what
// exact, prefix, suffix and the legacy attributes filter compile to.
type conditions []condition

// Match implements Filter.
func (cs conditions) Match(ev *cloudevents.Event) bool {
	for i := range cs {
		if !cs[i].attr.test(ev, cs[i].op, cs[i].want) {
			return false
		}
	}
	return true
}

// newConditions compiles an attribute→value map, testing each attribute with
// o. The map's keys must be valid attribute names; empty values are refused
// unless allowEmpty, in which case they test for presence. Every problem is
// reported, at the attribute's key. The conditions are ordered cheapest
// attribute first, then by name.
func newConditions(attrs map[string]string, o op, allowEmpty bool) (Filter, *apis.FieldError) {
	cs := make(conditions, 0, len(attrs))
	for name, want := range attrs {
		c := condition{attr: attributeNamed(name), op: o, want: want}
		if want == "" && allowEmpty {
			c.op = opPresent
		}
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b condition) int {
		return cmp.Or(cmp.Compare(a.attr.kind, b.attr.kind), strings.Compare(a.attr.name, b.attr.name))
	})
	var errs *apis.FieldError
	for name, want := range attrs {
		if !validAttributeName(name) {
			errs = errs.Also(problem(ErrInvalidAttributeName).ViaKey(name))
		} else if want == "" && !allowEmpty {
			errs = errs.Also(problem(ErrEmptyValue).ViaKey(name))
		}
	}
	if errs != nil {
		return nil, errs
	}
	return cs, nil
}
