package sources_test

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/receiver"
)

func TestNewPushEntries(t *testing.T) {
	t.Parallel()
	filters := map[string]string{"b": "body.a ==", "a": "body.a == 1", "c": "  "}
	newES := func(names ...string) *v1alpha1.EventSource {
		es := &v1alpha1.EventSource{ObjectMeta: metav1.ObjectMeta{Name: "hooks"},
			Spec: v1alpha1.EventSourceSpec{Webhook: map[string]v1alpha1.WebhookEventSource{}}}
		for _, n := range names {
			es.Spec.Webhook[n] = v1alpha1.WebhookEventSource{Filter: &v1alpha1.EventSourceFilter{Expression: filters[n]}}
		}
		return es
	}
	es := newES("b", "a", "c")
	rcv := receiver.New(receiver.Options{})
	build := func(p sources.PushEntry) (sources.PushEntry, *apis.FieldError) {
		return p, p.CompileFilter(&v1alpha1.EventSourceFilter{Expression: filters[p.Name]})
	}
	tests := []struct {
		name    string
		es      *v1alpha1.EventSource
		deps    sources.Deps
		key     string
		wantErr string
	}{
		{name: "nil eventsource", deps: sources.Deps{Receiver: rcv}, key: "webhook", wantErr: "webhook: eventsource is nil"},
		{name: "no entries", es: es, deps: sources.Deps{Receiver: rcv}, key: "github", wantErr: "eventsource hooks has no spec.github entries: spec.github"},
		{name: "no receiver", es: es, key: "webhook", wantErr: "webhook: no receiver to serve the routes on"},
		{name: "entry problems under their paths", es: es, deps: sources.Deps{Receiver: rcv}, key: "webhook",
			wantErr: `invalid value: body.a ==: spec.webhook[b].filter.expression`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := sources.NewPushEntries(tc.key, tc.es, tc.deps, build)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("NewPushEntries() error = %v, want %q", err, tc.wantErr)
			}
		})
	}

	entries, err := sources.NewPushEntries("webhook", newES("c", "a"), sources.Deps{Receiver: rcv}, build)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
		if e.Log == nil {
			t.Errorf("entry %s has no logger", e.Name)
		}
	}
	if !slices.Equal(names, []string{"a", "c"}) {
		t.Errorf("entries = %v, want [a c] in name order", names)
	}
	if entries[0].Filter == nil || entries[0].Filter.String() != "body.a == 1" || entries[1].Filter != nil {
		t.Errorf("filters = %v, %v; want a's expression and none for a blank one", entries[0].Filter, entries[1].Filter)
	}
}
