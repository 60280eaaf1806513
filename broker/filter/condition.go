package filter

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	cloudevents "github.com/cloudevents/sdk-go/v2"
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

// newConditions compiles an attribute→value map found at path, testing each
// attribute with o. The map's keys must be valid attribute names; empty values
// are refused unless allowEmpty, in which case they test for presence. The
// conditions are ordered cheapest attribute first, then by name.
func newConditions(attrs map[string]string, o op, allowEmpty bool, path string) (Filter, error) {
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
	// Report problems in name order so the error is the same on every run.
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, c.attr.name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !validAttributeName(name) {
			return nil, fmt.Errorf("%s[%s]: %w", path, name, ErrInvalidAttributeName)
		}
		if attrs[name] == "" && !allowEmpty {
			return nil, fmt.Errorf("%s[%s]: %w", path, name, ErrEmptyValue)
		}
	}
	return cs, nil
}
