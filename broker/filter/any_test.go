package filter

import (
	"testing"

	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
)

// anyOf is a filters element with an any dialect.
func anyOf(fs ...eventingv1.SubscriptionsAPIFilter) eventingv1.SubscriptionsAPIFilter {
	if fs == nil {
		fs = []eventingv1.SubscriptionsAPIFilter{}
	}
	return eventingv1.SubscriptionsAPIFilter{Any: fs}
}

func TestAny(t *testing.T) {
	t.Parallel()
	isWebhook := exact(map[string]string{"type": "dev.flint.webhook"})
	isSQS := exact(map[string]string{"type": "dev.flint.sqs"})
	isKafka := exact(map[string]string{"type": "dev.flint.kafka"})
	runMatchCases(t, []matchCase{
		{name: "first passes", spec: filters(anyOf(isWebhook, isSQS)), event: "full", want: true},
		{name: "last passes", spec: filters(anyOf(isSQS, isKafka, isWebhook)), event: "full", want: true},
		{name: "none passes", spec: filters(anyOf(isSQS, isKafka)), event: "full", want: false},
		{name: "empty element passes whatever its position", spec: filters(anyOf(isSQS, eventingv1.SubscriptionsAPIFilter{})), event: "full", want: true},
		{name: "empty element first", spec: filters(anyOf(eventingv1.SubscriptionsAPIFilter{}, isSQS)), event: "full", want: true},
		{name: "nested all", spec: filters(anyOf(isSQS, allOf(isWebhook, exact(map[string]string{"team": "payments"})))), event: "full", want: true},
		{name: "nested all fails", spec: filters(anyOf(isSQS, allOf(isWebhook, exact(map[string]string{"team": "billing"})))), event: "full", want: false},
		{name: "nested any", spec: filters(anyOf(isSQS, anyOf(isKafka, isWebhook))), event: "full", want: true},
		{name: "nested not", spec: filters(anyOf(isWebhook, not(isWebhook))), event: "bare", want: true},
		{name: "missing attributes", spec: filters(anyOf(exact(map[string]string{"team": "payments"}), prefix(map[string]string{"subject": "w"}))), event: "bare", want: false},
		{name: "ANDed with a sibling", spec: filters(anyOf(isWebhook, isSQS), exact(map[string]string{"subject": "other"})), event: "full", want: false},
	})
}
