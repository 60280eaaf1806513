package filter

import (
	"testing"

	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
)

// cesqlOf is a filters element with a cesql dialect.
func cesqlOf(expr string) eventingv1.SubscriptionsAPIFilter {
	return eventingv1.SubscriptionsAPIFilter{CESQL: expr}
}

func TestCESQL(t *testing.T) {
	t.Parallel()
	runMatchCases(t, []matchCase{
		{name: "like and equal", spec: filters(cesqlOf("source LIKE 'https://github.com/%' AND subject = 'webhook_example'")), event: "full", want: true},
		{name: "like and equal, subject differs", spec: filters(cesqlOf("source LIKE 'https://github.com/%' AND subject = 'x'")), event: "full", want: false},
		{name: "like on relative source", spec: filters(cesqlOf("source LIKE 'web%' AND type = 'webhook'")), event: "bare", want: true},
		{name: "exists", spec: filters(cesqlOf("EXISTS subject")), event: "full", want: true},
		{name: "exists missing", spec: filters(cesqlOf("EXISTS subject")), event: "bare", want: false},
		{name: "missing attribute is an evaluation error", spec: filters(cesqlOf("team = 'payments'")), event: "bare", want: false},
		{name: "extension", spec: filters(cesqlOf("team = 'payments' AND urgent")), event: "full", want: true},
		{name: "integer extension", spec: filters(cesqlOf("priority > 5")), event: "full", want: true},
		{name: "integer extension too low", spec: filters(cesqlOf("priority > 9")), event: "full", want: false},
		{name: "in", spec: filters(cesqlOf("type IN ('dev.flint.sqs', 'dev.flint.webhook')")), event: "full", want: true},
		{name: "function", spec: filters(cesqlOf("UPPER(subject) = 'WEBHOOK_EXAMPLE'")), event: "full", want: true},
		{name: "string result cast to boolean", spec: filters(cesqlOf("'TRUE'")), event: "bare", want: true},
		{name: "string result that is no boolean", spec: filters(cesqlOf("subject")), event: "full", want: false},
		{name: "integer result cast to boolean", spec: filters(cesqlOf("priority")), event: "full", want: true},
		{name: "false literal", spec: filters(cesqlOf("FALSE")), event: "full", want: false},
		{name: "nil context", spec: filters(cesqlOf("EXISTS type")), event: "nil-context", want: false},
		{name: "v0.3", spec: filters(cesqlOf("type = 'dev.flint.webhook'")), event: "v03", want: true},
		{name: "nested in any", spec: filters(anyOf(cesqlOf("type = 'x'"), cesqlOf("subject LIKE '%_example'"))), event: "full", want: true},
	})
}

func TestCESQLNilEvent(t *testing.T) {
	t.Parallel()
	f := mustNew(t, filters(cesqlOf("TRUE")))
	if f.Match(nil) {
		t.Error("Match(nil) = true, want false")
	}
}
