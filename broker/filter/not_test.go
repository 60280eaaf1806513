package filter

import (
	"testing"

	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
)

// not is a filters element with a not dialect.
func not(f eventingv1.SubscriptionsAPIFilter) eventingv1.SubscriptionsAPIFilter {
	return eventingv1.SubscriptionsAPIFilter{Not: &f}
}

func TestNot(t *testing.T) {
	t.Parallel()
	isWebhook := exact(map[string]string{"type": "dev.flint.webhook"})
	isSQS := exact(map[string]string{"type": "dev.flint.sqs"})
	runMatchCases(t, []matchCase{
		{name: "negates a pass", spec: filters(not(isWebhook)), event: "full", want: false},
		{name: "negates a failure", spec: filters(not(isSQS)), event: "full", want: true},
		{name: "missing attribute passes", spec: filters(not(exact(map[string]string{"team": "payments"}))), event: "bare", want: true},
		{name: "double negation", spec: filters(not(not(isWebhook))), event: "full", want: true},
		{name: "De Morgan: not any", spec: filters(not(anyOf(isSQS, isWebhook))), event: "full", want: false},
		{name: "not all", spec: filters(not(allOf(isWebhook, isSQS))), event: "full", want: true},
		{name: "negated cesql", spec: filters(not(cesqlOf("subject = 'webhook_example'"))), event: "full", want: false},
		{name: "negated cesql error passes", spec: filters(not(cesqlOf("team = 'payments'"))), event: "bare", want: true},
		{name: "not of an always-true all", spec: filters(not(allOf(eventingv1.SubscriptionsAPIFilter{}))), event: "full", want: false},
		{name: "inside any", spec: filters(anyOf(isSQS, not(prefix(map[string]string{"source": "https://gitlab.com/"})))), event: "full", want: true},
	})
}
