package sensor

import (
	"context"
	"testing"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

func TestContextFilter(t *testing.T) {
	t.Parallel()
	// The test event is type webhook, source webhook-gateway, subject
	// example-1, datacontenttype application/json (argo-events.md §7 item 15).
	tests := []struct {
		name       string
		filter     v1alpha1.EventContext
		wantPass   bool
		wantReason string
	}{
		{name: "argo#15: different type", filter: v1alpha1.EventContext{Type: "calendar"},
			wantReason: `context filter type: "webhook" is not "calendar"`},
		{name: "argo#15: same type and source", filter: v1alpha1.EventContext{Type: "webhook", Source: "webhook-gateway"}, wantPass: true},
		{name: "all four fields", wantPass: true, filter: v1alpha1.EventContext{
			Type: "webhook", Source: "webhook-gateway", Subject: "example-1", DataContentType: "application/json"}},
		{name: "subject differs", filter: v1alpha1.EventContext{Type: "webhook", Subject: "example-2"},
			wantReason: `context filter subject: "example-1" is not "example-2"`},
		{name: "source differs", filter: v1alpha1.EventContext{Source: "other"},
			wantReason: `context filter source: "webhook-gateway" is not "other"`},
		{name: "datacontenttype differs", filter: v1alpha1.EventContext{DataContentType: "application/yaml"},
			wantReason: `context filter datacontenttype: "application/json" is not "application/yaml"`},
		{name: "equality is exact", filter: v1alpha1.EventContext{Type: "Webhook"},
			wantReason: `context filter type: "webhook" is not "Webhook"`},
		{name: "id and specversion are not compared", filter: v1alpha1.EventContext{Type: "webhook", ID: "other", SpecVersion: "0.3"}, wantPass: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := newContextFilter(&tc.filter)
			if err != nil {
				t.Fatalf("newContextFilter: %v", err)
			}
			v := f.eval(context.Background(), &input{ev: testEvent(`{}`)})
			if v.pass != tc.wantPass || v.reason != tc.wantReason || v.err != nil {
				t.Errorf("eval = %+v, want pass %v reason %q", v, tc.wantPass, tc.wantReason)
			}
		})
	}
}

func TestNewContextFilterEmpty(t *testing.T) {
	t.Parallel()
	_, err := newContextFilter(&v1alpha1.EventContext{ID: "1"})
	checkErr(t, err, "context: expected at least one of type, subject, source, datacontenttype")
}
