package evallimit

import (
	"math"
	"reflect"
	"strings"
)

// maxDepth is how deep a value may nest before its size counts as unbounded
// (a template can build a map that contains itself): ten times as deep as
// the event data the engine takes.
const maxDepth = 10_000

// Shape is how big a value is when printed: its bytes, its nodes
// (values, keys and elements) and how deep it nests.
type Shape struct {
	Size, Nodes int64
	Depth       int
}

// ShapeOf measures v as fmt or encoding/json would print it, stopping as
// soon as it passes limit bytes (a template can build a value that shares or
// contains itself, whose print is exponential or endless): the size is then
// more than limit. Strings count scale bytes each (6 for JSON, which may
// escape every byte as \u00XX).
func ShapeOf(v any, limit int64, scale int64) Shape {
	var s Shape
	var walk func(rv reflect.Value, depth int)
	walk = func(rv reflect.Value, depth int) {
		if s.Size > limit {
			return
		}
		if depth > maxDepth {
			s.Size = math.MaxInt64
			return
		}
		s.Nodes++
		s.Depth = max(s.Depth, depth)
		for rv.IsValid() && (rv.Kind() == reflect.Interface || rv.Kind() == reflect.Pointer) {
			if rv.IsNil() {
				break
			}
			rv = rv.Elem()
		}
		switch rv.Kind() {
		case reflect.String:
			s.Size = Add(s.Size, Mul(int64(rv.Len()), scale)+2)
		case reflect.Slice, reflect.Array:
			if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
				s.Size = Add(s.Size, Mul(int64(rv.Len()), 4)+2)
				return
			}
			s.Size = Add(s.Size, 2)
			for i := range rv.Len() {
				s.Size = Add(s.Size, 1)
				walk(rv.Index(i), depth+1)
				if s.Size > limit {
					return
				}
			}
		case reflect.Map:
			s.Size = Add(s.Size, 5)
			it := rv.MapRange()
			for it.Next() {
				s.Size = Add(s.Size, 2)
				walk(it.Key(), depth+1)
				walk(it.Value(), depth+1)
				if s.Size > limit {
					return
				}
			}
		case reflect.Struct:
			s.Size = Add(s.Size, 2)
			for i := range rv.NumField() {
				if rv.Type().Field(i).IsExported() {
					s.Size = Add(s.Size, int64(len(rv.Type().Field(i).Name))+2)
					walk(rv.Field(i), depth+1)
				}
			}
		default:
			s.Size = Add(s.Size, 32) // numbers, booleans, nil
		}
	}
	walk(reflect.ValueOf(v), 0)
	return s
}

// PrintedSize is an upper bound of the bytes fmt prints for v, or more than
// limit.
func PrintedSize(v any, limit int64) int64 {
	return ShapeOf(v, limit, 1).Size
}

// maxWidth is the largest width or precision fmt pads to; it prints
// %!(BADWIDTH) for larger ones.
const maxWidth = 1e6

// FormatWidths is the sum of the widths and precisions written in a printf
// format (`%999999d`), which fmt pads to before writing anything, and
// whether the format takes a width or precision from its arguments (`%*d`).
func FormatWidths(format string) (sum int64, star bool) {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		for i++; i < len(format); {
			c := format[i]
			if c >= '0' && c <= '9' {
				n := int64(0)
				for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
					n = Add(Mul(n, 10), int64(format[i]-'0'))
				}
				sum = Add(sum, min(n, maxWidth))
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

// FormattedSize bounds what a printf of format with args writes.
func FormattedSize(format string, args []any, limit int64) int64 {
	widths, star := FormatWidths(format)
	n := Add(int64(len(format)), widths)
	for _, a := range args {
		n = Add(n, PrintedSize(a, limit))
		if star {
			// A width taken from an argument counts as the argument's value.
			if rv := reflect.ValueOf(a); rv.CanInt() {
				n = Add(n, max(rv.Int(), 0))
			} else if rv.CanUint() {
				n = Add(n, int64(min(rv.Uint(), math.MaxInt64)))
			}
		}
	}
	return n
}
