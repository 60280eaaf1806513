package filter

import (
	"testing"

	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
)

// exact is a filters element with an exact dialect.
func exact(kv map[string]string) eventingv1.SubscriptionsAPIFilter {
	return eventingv1.SubscriptionsAPIFilter{Exact: kv}
}

func TestExact(t *testing.T) {
	t.Parallel()
	runMatchCases(t, []matchCase{
		{name: "type", spec: filters(exact(map[string]string{"type": "dev.flint.webhook"})), event: "full", want: true},
		{name: "type differs", spec: filters(exact(map[string]string{"type": "dev.flint.sqs"})), event: "full", want: false},
		{name: "case-sensitive", spec: filters(exact(map[string]string{"subject": "Webhook_Example"})), event: "full", want: false},
		{name: "source URI", spec: filters(exact(map[string]string{"source": "https://github.com/flintevents/flint"})), event: "full", want: true},
		{name: "relative source", spec: filters(exact(map[string]string{"source": "webhook"})), event: "bare", want: true},
		{name: "source differs by trailing slash", spec: filters(exact(map[string]string{"source": "https://github.com/flintevents/flint/"})), event: "full", want: false},
		{name: "time", spec: filters(exact(map[string]string{"time": "2024-05-01T12:34:56.789Z"})), event: "full", want: true},
		{name: "time other form", spec: filters(exact(map[string]string{"time": "2024-05-01T12:34:56.789000Z"})), event: "full", want: false},
		{name: "all listed attributes", spec: filters(exact(map[string]string{"type": "dev.flint.webhook", "source": "https://github.com/flintevents/flint", "team": "payments"})), event: "full", want: true},
		{name: "one listed attribute differs", spec: filters(exact(map[string]string{"type": "dev.flint.webhook", "team": "billing"})), event: "full", want: false},
		{name: "integer extension", spec: filters(exact(map[string]string{"priority": "7"})), event: "full", want: true},
		{name: "integer extension differs", spec: filters(exact(map[string]string{"priority": "07"})), event: "full", want: false},
		{name: "missing subject", spec: filters(exact(map[string]string{"subject": "webhook_example"})), event: "bare", want: false},
		{name: "missing extension", spec: filters(exact(map[string]string{"team": "payments"})), event: "bare", want: false},
		{name: "v0.3 source", spec: filters(exact(map[string]string{"source": "https://github.com/flintevents/flint"})), event: "v03", want: true},
		{name: "nil context", spec: filters(exact(map[string]string{"type": "webhook"})), event: "nil-context", want: false},
		{name: "elements are ANDed", spec: filters(
			exact(map[string]string{"type": "dev.flint.webhook"}),
			exact(map[string]string{"subject": "other"}),
		), event: "full", want: false},
	})
}
