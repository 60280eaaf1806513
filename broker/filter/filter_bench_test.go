package filter

import (
	"fmt"
	"strings"
	"testing"

	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
)

// benchAttrs are attributes of fullEvent with their values, cheapest first;
// a size=n benchmark filters on the first n.
func benchAttrs() [][2]string {
	return [][2]string{
		{"type", "dev.flint.webhook"},
		{"subject", "webhook_example"},
		{"source", "https://github.com/flintevents/flint"},
		{"team", "payments"},
		{"id", "abc-123"},
		{"priority", "7"},
		{"time", "2024-05-01T12:34:56.789Z"},
		{"datamediatype", "application/json"},
	}
}

// benchSizes are the numbers of attributes or clauses the benchmarks sweep.
func benchSizes() []int { return []int{1, 4, 8} }

// benchMap returns the first n benchAttrs as a map, each value passed
// through shape (to take a prefix or a suffix); miss spoils the last value.
func benchMap(n int, miss bool, shape func(string) string) map[string]string {
	m := make(map[string]string, n)
	for i, kv := range benchAttrs()[:n] {
		v := shape(kv[1])
		if miss && i == n-1 {
			v = "zz" + v
		}
		m[kv[0]] = v
	}
	return m
}

func whole(s string) string      { return s }
func firstThree(s string) string { return s[:min(3, len(s))] }
func lastThree(s string) string  { return s[max(0, len(s)-3):] }

// benchSpecs builds, per dialect, the spec for n attributes or clauses that
// matches fullEvent, or misses it on the last one.
func benchSpecs() []struct {
	dialect string
	spec    func(n int, miss bool) *eventingv1.TriggerSpec
} {
	return []struct {
		dialect string
		spec    func(n int, miss bool) *eventingv1.TriggerSpec
	}{
		{"legacy", func(n int, miss bool) *eventingv1.TriggerSpec { return attrs(benchMap(n, miss, whole)) }},
		{"exact", func(n int, miss bool) *eventingv1.TriggerSpec { return filters(exact(benchMap(n, miss, whole))) }},
		{"prefix", func(n int, miss bool) *eventingv1.TriggerSpec { return filters(prefix(benchMap(n, miss, firstThree))) }},
		{"suffix", func(n int, miss bool) *eventingv1.TriggerSpec {
			m := benchMap(n, miss, lastThree)
			if miss { // "zz" in front does not spoil a suffix
				for k, v := range m {
					if strings.HasPrefix(v, "zz") {
						m[k] = v[2:] + "zz"
					}
				}
			}
			return filters(suffix(m))
		}},
		{"all", func(n int, miss bool) *eventingv1.TriggerSpec {
			var fs []eventingv1.SubscriptionsAPIFilter
			for i, kv := range benchAttrs()[:n] {
				v := kv[1]
				if miss && i == n-1 {
					v = "zz"
				}
				fs = append(fs, exact(map[string]string{kv[0]: v}))
			}
			return filters(allOf(fs...))
		}},
		{"any", func(n int, miss bool) *eventingv1.TriggerSpec {
			// Every child but the last misses, so all n are evaluated.
			var fs []eventingv1.SubscriptionsAPIFilter
			for i, kv := range benchAttrs()[:n] {
				v := "zz"
				if !miss && i == n-1 {
					v = kv[1]
				}
				fs = append(fs, exact(map[string]string{kv[0]: v}))
			}
			return filters(anyOf(fs...))
		}},
		{"not", func(n int, miss bool) *eventingv1.TriggerSpec {
			// not(any(n children that all miss)) passes after evaluating all n.
			var fs []eventingv1.SubscriptionsAPIFilter
			for i, kv := range benchAttrs()[:n] {
				v := "zz"
				if miss && i == n-1 {
					v = kv[1]
				}
				fs = append(fs, exact(map[string]string{kv[0]: v}))
			}
			return filters(not(anyOf(fs...)))
		}},
		{"cesql", func(n int, miss bool) *eventingv1.TriggerSpec {
			clauses := make([]string, 0, n)
			for i, kv := range benchAttrs()[:n] {
				v := kv[1]
				if miss && i == n-1 {
					v = "zz"
				}
				if kv[0] == "datamediatype" { // not a CESQL attribute
					clauses = append(clauses, "datacontenttype LIKE '"+v+"%'")
					continue
				}
				clauses = append(clauses, fmt.Sprintf("%s = '%s'", kv[0], v))
			}
			return filters(cesqlOf(strings.Join(clauses, " AND ")))
		}},
	}
}

func BenchmarkMatch(b *testing.B) {
	ev := fullEvent(b)
	for _, d := range benchSpecs() {
		b.Run(d.dialect, func(b *testing.B) {
			for _, n := range benchSizes() {
				b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
					for _, miss := range []bool{false, true} {
						b.Run(map[bool]string{false: "match", true: "miss"}[miss], func(b *testing.B) {
							f := mustNew(b, d.spec(n, miss))
							if got := f.Match(ev); got == miss {
								b.Fatalf("Match = %v, want %v", got, !miss)
							}
							b.ReportAllocs()
							for b.Loop() {
								f.Match(ev)
							}
						})
					}
				})
			}
		})
	}
}

// BenchmarkAttribute is the cost of one exact test per attribute kind.
func BenchmarkAttribute(b *testing.B) {
	ev := fullEvent(b)
	for _, kv := range [][2]string{
		{"type", "dev.flint.webhook"},
		{"source", "https://github.com/flintevents/flint"},
		{"time", "2024-05-01T12:34:56.789Z"},
		{"dataschema", "https://schemas.flint.dev/webhook.json"},
		{"team", "payments"},
		{"priority", "7"},
		{"when", "2024-05-01T10:00:00Z"},
	} {
		b.Run(kv[0], func(b *testing.B) {
			f := mustNew(b, filters(exact(map[string]string{kv[0]: kv[1]})))
			if !f.Match(ev) {
				b.Fatal("Match = false, want true")
			}
			b.ReportAllocs()
			for b.Loop() {
				f.Match(ev)
			}
		})
	}
}

// BenchmarkNew is the cost of compiling a trigger's filters.
func BenchmarkNew(b *testing.B) {
	for _, d := range benchSpecs() {
		b.Run(d.dialect, func(b *testing.B) {
			for _, n := range benchSizes() {
				b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
					spec := d.spec(n, false)
					b.ReportAllocs()
					for b.Loop() {
						if _, err := New(spec); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
