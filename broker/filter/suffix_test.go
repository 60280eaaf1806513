package filter

import (
	"testing"

	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
)

// suffix is a filters element with a suffix dialect.
func suffix(kv map[string]string) eventingv1.SubscriptionsAPIFilter {
	return eventingv1.SubscriptionsAPIFilter{Suffix: kv}
}

func TestSuffix(t *testing.T) {
	t.Parallel()
	runMatchCases(t, []matchCase{
		{name: "type", spec: filters(suffix(map[string]string{"type": ".webhook"})), event: "full", want: true},
		{name: "whole value", spec: filters(suffix(map[string]string{"type": "dev.flint.webhook"})), event: "full", want: true},
		{name: "longer than value", spec: filters(suffix(map[string]string{"type": "x.dev.flint.webhook"})), event: "full", want: false},
		{name: "case-sensitive", spec: filters(suffix(map[string]string{"type": ".Webhook"})), event: "full", want: false},
		{name: "source", spec: filters(suffix(map[string]string{"source": "/flint"})), event: "full", want: true},
		{name: "dataschema", spec: filters(suffix(map[string]string{"dataschema": ".json"})), event: "full", want: true},
		{name: "time", spec: filters(suffix(map[string]string{"time": ".789Z"})), event: "full", want: true},
		{name: "binary extension", spec: filters(suffix(map[string]string{"blob": "ID"})), event: "full", want: true},
		{name: "datamediatype", spec: filters(suffix(map[string]string{"datamediatype": "/json"})), event: "full", want: true},
		{name: "datacontenttype keeps parameters", spec: filters(suffix(map[string]string{"datacontenttype": "/json"})), event: "full", want: false},
		{name: "one listed attribute differs", spec: filters(suffix(map[string]string{"type": ".webhook", "subject": "_other"})), event: "full", want: false},
		{name: "missing attribute", spec: filters(suffix(map[string]string{"dataschema": ".json"})), event: "bare", want: false},
	})
}
