package filter

import (
	"testing"

	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
)

// allOf is a filters element with an all dialect.
func allOf(fs ...eventingv1.SubscriptionsAPIFilter) eventingv1.SubscriptionsAPIFilter {
	if fs == nil {
		fs = []eventingv1.SubscriptionsAPIFilter{}
	}
	return eventingv1.SubscriptionsAPIFilter{All: fs}
}

func TestAll(t *testing.T) {
	t.Parallel()
	isWebhook := exact(map[string]string{"type": "dev.flint.webhook"})
	isSQS := exact(map[string]string{"type": "dev.flint.sqs"})
	fromGitHub := prefix(map[string]string{"source": "https://github.com/"})
	runMatchCases(t, []matchCase{
		{name: "every filter passes", spec: filters(allOf(isWebhook, fromGitHub)), event: "full", want: true},
		{name: "one filter fails", spec: filters(allOf(isWebhook, isSQS)), event: "full", want: false},
		{name: "single filter", spec: filters(allOf(isSQS)), event: "full", want: false},
		{name: "empty element passes", spec: filters(allOf(eventingv1.SubscriptionsAPIFilter{}, isWebhook)), event: "full", want: true},
		{name: "only empty elements", spec: filters(allOf(eventingv1.SubscriptionsAPIFilter{})), event: "bare", want: true},
		{name: "nested all", spec: filters(allOf(isWebhook, allOf(fromGitHub, suffix(map[string]string{"subject": "_example"})))), event: "full", want: true},
		{name: "nested all fails deep", spec: filters(allOf(isWebhook, allOf(fromGitHub, suffix(map[string]string{"subject": "_other"})))), event: "full", want: false},
		{name: "nested any", spec: filters(allOf(fromGitHub, anyOf(isSQS, isWebhook))), event: "full", want: true},
		{name: "nested not", spec: filters(allOf(fromGitHub, not(isSQS))), event: "full", want: true},
		{name: "missing attribute", spec: filters(allOf(fromGitHub, isWebhook)), event: "bare", want: false},
	})
}
