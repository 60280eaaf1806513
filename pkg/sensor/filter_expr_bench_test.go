package sensor

import (
	"context"
	"testing"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// BenchmarkExprFilter measures one expression filter on a small event.
func BenchmarkExprFilter(b *testing.B) {
	d, ferr := newDependency(&v1alpha1.EventDependency{Name: "d", EventSourceName: "webhook", EventName: "example",
		Filters: &v1alpha1.EventDependencyFilter{Exprs: []v1alpha1.ExprFilter{{Expr: `n > 3 && kind == "order"`,
			Fields: []v1alpha1.PayloadField{{Name: "n", Path: "body.n"}, {Name: "kind", Path: "body.kind"}}}}}})
	if ferr != nil {
		b.Fatal(ferr)
	}
	ev := webhookEvent("1", `{}`, `{"n":5,"kind":"order"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, pass, _, _ := d.filter(context.Background(), ev); !pass {
			b.Fatal("filtered out")
		}
	}
}
