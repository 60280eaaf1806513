package sensor

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
)

// Output bounds. The functions of Lua, jq and templates that build a string
// or a list from small arguments (string.rep, string.gsub, jq's string
// repetition, sprig's repeat, indent, replace, randAlphaNum, join, toJson…)
// work out the size of their result before they allocate it: one result may
// not exceed maxEvalOutput bytes, and the results of one evaluation together
// may not exceed evalOutputBudget bytes, so that no single call can take the
// process down before the memory guard sees the heap grow.
const (
	// maxEvalOutput bounds one string a function of user code builds (4 MiB).
	maxEvalOutput = 4 << 20
	// evalOutputBudget bounds what the functions of one evaluation build
	// together (64 MiB).
	evalOutputBudget = 64 << 20
	// maxValueDepth is how deep a value may nest before its size counts as
	// unbounded (a template can build a map that contains itself).
	maxValueDepth = 1000
)

// ErrEvalOutput is wrapped by the error of an evaluation stopped because a
// function would have built a string or list beyond the output limits.
var ErrEvalOutput = errors.New("evaluation output limit exceeded")

// outputError is a refused result: what the function would have built and
// what was left of the limit.
type outputError struct {
	fn          string
	size, left  int64
	atLeast     bool // size is what was measured before measuring stopped
	perEval     bool
	limitOfCall int64
}

func (e *outputError) Error() string {
	of := "of"
	if e.atLeast {
		of = "of at least"
	}
	if e.perEval {
		return fmt.Sprintf("%s: output %s %d bytes exceeds the %d bytes left of the limit of %d bytes per evaluation",
			e.fn, of, e.size, e.left, evalOutputBudget)
	}
	return fmt.Sprintf("%s: output %s %d bytes exceeds the limit of %d bytes", e.fn, of, e.size, e.limitOfCall)
}

func (e *outputError) Unwrap() error { return ErrEvalOutput }

// outputBudget is what the functions of one evaluation may still build.
// One evaluation runs on one goroutine, so it needs no lock.
type outputBudget struct {
	used    int64
	refused error // the last refusal, for a runtime that keeps only its text
}

// charge accounts for a result of size bytes that fn is about to build, or
// refuses it.
func (b *outputBudget) charge(fn string, size int64) error {
	return b.chargeMeasured(fn, size, false)
}

// chargeMeasured is charge for a size that may be only what was measured
// before measuring stopped past a limit (atLeast).
func (b *outputBudget) chargeMeasured(fn string, size int64, atLeast bool) error {
	if size > maxEvalOutput {
		b.refused = &outputError{fn: fn, size: size, atLeast: atLeast, limitOfCall: maxEvalOutput}
		return b.refused
	}
	if left := evalOutputBudget - b.used; size > left {
		b.refused = &outputError{fn: fn, size: size, atLeast: atLeast, left: left, perEval: true}
		return b.refused
	}
	b.used += max(size, 0)
	return nil
}

// addSize and mulSize are + and * on sizes, saturating instead of overflowing.
func addSize(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mulSize(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

// valueShape is how big a value is when printed: its bytes, its nodes
// (values, keys and elements) and how deep it nests.
type valueShape struct {
	size, nodes int64
	depth       int
}

// shapeOf measures v as fmt or encoding/json would print it, stopping as
// soon as it passes limit bytes (a template can build a value that shares or
// contains itself, whose print is exponential or endless): the size is then
// more than limit. Strings count scale bytes each (6 for JSON, which may
// escape every byte as \u00XX).
func shapeOf(v any, limit int64, scale int64) valueShape {
	var s valueShape
	var walk func(rv reflect.Value, depth int)
	walk = func(rv reflect.Value, depth int) {
		if s.size > limit {
			return
		}
		if depth > maxValueDepth {
			s.size = math.MaxInt64
			return
		}
		s.nodes++
		s.depth = max(s.depth, depth)
		for rv.IsValid() && (rv.Kind() == reflect.Interface || rv.Kind() == reflect.Pointer) {
			if rv.IsNil() {
				break
			}
			rv = rv.Elem()
		}
		switch rv.Kind() {
		case reflect.String:
			s.size = addSize(s.size, mulSize(int64(rv.Len()), scale)+2)
		case reflect.Slice, reflect.Array:
			if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
				s.size = addSize(s.size, mulSize(int64(rv.Len()), 4)+2)
				return
			}
			s.size = addSize(s.size, 2)
			for i := range rv.Len() {
				s.size = addSize(s.size, 1)
				walk(rv.Index(i), depth+1)
				if s.size > limit {
					return
				}
			}
		case reflect.Map:
			s.size = addSize(s.size, 5)
			it := rv.MapRange()
			for it.Next() {
				s.size = addSize(s.size, 2)
				walk(it.Key(), depth+1)
				walk(it.Value(), depth+1)
				if s.size > limit {
					return
				}
			}
		case reflect.Struct:
			s.size = addSize(s.size, 2)
			for i := range rv.NumField() {
				if rv.Type().Field(i).IsExported() {
					s.size = addSize(s.size, int64(len(rv.Type().Field(i).Name))+2)
					walk(rv.Field(i), depth+1)
				}
			}
		default:
			s.size = addSize(s.size, 32) // numbers, booleans, nil
		}
	}
	walk(reflect.ValueOf(v), 0)
	return s
}

// printedSize is an upper bound of the bytes fmt prints for v, or more than
// limit.
func printedSize(v any, limit int64) int64 {
	return shapeOf(v, limit, 1).size
}

// fmtMaxWidth is the largest width or precision fmt pads to; it prints
// %!(BADWIDTH) for larger ones.
const fmtMaxWidth = 1e6

// formatWidths is the sum of the widths and precisions written in a printf
// format (`%999999d`), which fmt pads to before writing anything, and
// whether the format takes a width or precision from its arguments (`%*d`).
func formatWidths(format string) (sum int64, star bool) {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		for i++; i < len(format); {
			c := format[i]
			if c >= '0' && c <= '9' {
				n := int64(0)
				for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
					n = addSize(mulSize(n, 10), int64(format[i]-'0'))
				}
				sum = addSize(sum, min(n, fmtMaxWidth))
				continue
			}
			if c == '*' {
				star = true
			} else if !strings.ContainsRune(".+-# []", rune(c)) {
				break // the verb
			}
			i++
		}
	}
	return sum, star
}

// formattedSize bounds what a printf of format with args writes.
func formattedSize(format string, args []any, limit int64) int64 {
	widths, star := formatWidths(format)
	n := addSize(int64(len(format)), widths)
	for _, a := range args {
		n = addSize(n, printedSize(a, limit))
		if star {
			// A width taken from an argument counts as the argument's value.
			if rv := reflect.ValueOf(a); rv.CanInt() {
				n = addSize(n, max(rv.Int(), 0))
			} else if rv.CanUint() {
				n = addSize(n, int64(min(rv.Uint(), math.MaxInt64)))
			}
		}
	}
	return n
}
