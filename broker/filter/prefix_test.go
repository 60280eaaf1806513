package filter

import (
	"testing"

	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
)

// prefix is a filters element with a prefix dialect.
func prefix(kv map[string]string) eventingv1.SubscriptionsAPIFilter {
	return eventingv1.SubscriptionsAPIFilter{Prefix: kv}
}

func TestPrefix(t *testing.T) {
	t.Parallel()
	runMatchCases(t, []matchCase{
		{name: "type", spec: filters(prefix(map[string]string{"type": "dev.flint."})), event: "full", want: true},
		{name: "whole value", spec: filters(prefix(map[string]string{"type": "dev.flint.webhook"})), event: "full", want: true},
		{name: "longer than value", spec: filters(prefix(map[string]string{"type": "dev.flint.webhook.x"})), event: "full", want: false},
		{name: "case-sensitive", spec: filters(prefix(map[string]string{"type": "Dev."})), event: "full", want: false},
		{name: "source", spec: filters(prefix(map[string]string{"source": "https://github.com/"})), event: "full", want: true},
		{name: "time", spec: filters(prefix(map[string]string{"time": "2024-05-"})), event: "full", want: true},
		{name: "time differs", spec: filters(prefix(map[string]string{"time": "2023-"})), event: "full", want: false},
		{name: "boolean extension", spec: filters(prefix(map[string]string{"urgent": "tr"})), event: "full", want: true},
		{name: "all listed attributes", spec: filters(prefix(map[string]string{"type": "dev.", "subject": "webhook_"})), event: "full", want: true},
		{name: "one listed attribute differs", spec: filters(prefix(map[string]string{"type": "dev.", "subject": "sqs_"})), event: "full", want: false},
		{name: "missing attribute", spec: filters(prefix(map[string]string{"subject": "w"})), event: "bare", want: false},
		{name: "v0.3 time", spec: filters(prefix(map[string]string{"time": "2024-05-01T12:34"})), event: "v03", want: true},
	})
}
