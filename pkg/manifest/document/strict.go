package document

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// fieldProblem is one schema problem found in a document, at a field path;
// unknown says it is a field the type does not have (the value is ignored).
type fieldProblem struct {
	path, reason string
	unknown      bool
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// schemaChecker compares a decoded JSON value with a Go type the way
// encoding/json would decode it, but case-sensitively and reporting every
// unknown field and type mismatch with its full path instead of stopping at
// the first. It caches struct layouts for one document set.
type schemaChecker struct {
	fields   map[reflect.Type]map[string]reflect.Type
	problems []fieldProblem
}

func newSchemaChecker() *schemaChecker {
	return &schemaChecker{fields: map[reflect.Type]map[string]reflect.Type{}}
}

// check walks v (from a json.Decoder with UseNumber) against t; it returns
// the problems found, ordered by path.
func (c *schemaChecker) check(v any, t reflect.Type) []fieldProblem {
	c.problems = nil
	c.walk(v, t, "")
	sort.SliceStable(c.problems, func(i, j int) bool { return c.problems[i].path < c.problems[j].path })
	return c.problems
}

func (c *schemaChecker) add(path, format string, args ...any) {
	c.problems = append(c.problems, fieldProblem{path: path, reason: fmt.Sprintf(format, args...)})
}

func childPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func (c *schemaChecker) walk(v any, t reflect.Type, path string) {
	if v == nil {
		return // null leaves any Go value at its zero value
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		c.custom(v, t, path)
		return
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		s, ok := v.(string)
		if !ok {
			c.add(path, "expected string, got %s", jsonKind(v))
			return
		}
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			c.add(path, "invalid value: %s", err)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			c.add(path, "expected object, got %s", jsonKind(v))
			return
		}
		c.object(m, t, path)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			c.add(path, "expected object, got %s", jsonKind(v))
			return
		}
		for _, k := range sortedKeys(m) {
			c.walk(m[k], t.Elem(), path+"["+k+"]")
		}
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			s, ok := v.(string)
			if !ok {
				c.add(path, "expected base64 string, got %s", jsonKind(v))
			} else if _, err := base64.StdEncoding.DecodeString(s); err != nil {
				c.add(path, "invalid value: not base64")
			}
			return
		}
		a, ok := v.([]any)
		if !ok {
			c.add(path, "expected array, got %s", jsonKind(v))
			return
		}
		for i, e := range a {
			c.walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			c.add(path, "expected string, got %s", jsonKind(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			c.add(path, "expected boolean, got %s", jsonKind(v))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			c.add(path, "expected integer, got %s", jsonKind(v))
			return
		}
		if _, err := strconv.ParseInt(n.String(), 10, t.Bits()); err != nil {
			c.add(path, "expected %d-bit integer, got %s", t.Bits(), n)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			c.add(path, "expected integer, got %s", jsonKind(v))
			return
		}
		if _, err := strconv.ParseUint(n.String(), 10, t.Bits()); err != nil {
			c.add(path, "expected non-negative %d-bit integer, got %s", t.Bits(), n)
		}
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			c.add(path, "expected number, got %s", jsonKind(v))
			return
		}
		if _, err := strconv.ParseFloat(n.String(), t.Bits()); err != nil {
			c.add(path, "invalid value: %s", n)
		}
	}
	// Interfaces accept anything; channels and functions never appear in API types.
}

// custom runs a type's own UnmarshalJSON on the value.
func (c *schemaChecker) custom(v any, t reflect.Type, path string) {
	raw, err := json.Marshal(v)
	if err != nil {
		c.add(path, "invalid value: %s", err)
		return
	}
	if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
		c.add(path, "invalid value: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

func (c *schemaChecker) object(m map[string]any, t reflect.Type, path string) {
	fields := c.structFields(t)
	for _, k := range sortedKeys(m) {
		ft, ok := fields[k]
		if !ok {
			c.problems = append(c.problems, fieldProblem{path: childPath(path, k), reason: unknownFieldReason(k, fields), unknown: true})
			continue
		}
		c.walk(m[k], ft, childPath(path, k))
	}
}

// structFields returns the JSON names of t's fields as encoding/json sees
// them: tag names, embedded structs without a name promoted, shallower wins.
func (c *schemaChecker) structFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := c.fields[t]; ok {
		return f
	}
	out := map[string]reflect.Type{}
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && !strings.HasPrefix(f.Tag.Get("json"), "-,") {
			continue
		}
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	for _, et := range embedded {
		for name, ft := range c.structFields(et) {
			if _, taken := out[name]; !taken {
				out[name] = ft
			}
		}
	}
	c.fields[t] = out
	return out
}

// unknownFieldReason says a field is unknown and suggests a close known name.
func unknownFieldReason(name string, fields map[string]reflect.Type) string {
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	if best := DidYouMean(name, known); best != "" {
		return fmt.Sprintf("unknown field, did you mean %q?", best)
	}
	return "unknown field"
}

// DidYouMean returns the name of known closest to name: one equal to it
// but for case first, else the one at the smallest edit distance (at most
// 2, and less than the length of name minus one), the first in lexical
// order on a tie; "" when none is close.
func DidYouMean(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if k == name {
			continue
		}
		if strings.EqualFold(k, name) {
			if bestDist > 0 || k < best {
				best, bestDist = k, 0
			}
			continue
		}
		if d := editDistance(strings.ToLower(name), strings.ToLower(k)); d < bestDist || (d == bestDist && k < best) {
			best, bestDist = k, d
		}
	}
	if best == "" || (bestDist > 0 && len(name) <= bestDist+1) {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and adjacent transpositions cost 1.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
