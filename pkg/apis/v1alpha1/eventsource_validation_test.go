package v1alpha1

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestEventSourceValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
	}{
		{file: "valid.yaml"},
		{file: "missing-name.yaml", want: []string{"metadata.name: missing field(s)"}},
		{file: "no-type-keys.yaml", want: []string{
			"spec: expected at least one event source entry under a type key such as webhook, calendar or kafka",
		}},
		{file: "webhook-port.yaml", want: []string{
			"spec.webhook[letters].port: invalid value: http",
			"spec.webhook[missing].port: missing field(s)",
			"spec.webhook[too-big].port: expected 1 <= 70000 <= 65535",
		}},
		{file: "webhook-endpoint-method.yaml", want: []string{
			"spec.webhook[example].endpoint: invalid value: example",
			"spec.webhook[example].method: missing field(s)",
			"spec.webhook[other].endpoint: missing field(s)",
			"spec.webhook[other].method: invalid value: FETCH",
		}},
		{file: "webhook-duplicate-route.yaml", want: []string{
			"spec.webhook[first].endpoint: port 12000 and endpoint /hook are already served by github[push]",
			"spec.webhook[second].endpoint: port 12000 and endpoint /hook are already served by github[push]",
		}},
		{file: "webhook-tls-and-size.yaml", want: []string{
			"spec.webhook[example].maxPayloadSize: invalid value: 0",
			"spec.webhook[example].serverCertSecret: serverCertSecret and serverKeySecret must be set together",
			"spec.webhook[example].serverKeySecret: serverCertSecret and serverKeySecret must be set together",
		}},
		{file: "duplicate-event-name.yaml", want: []string{
			`spec.webhook[example]: duplicate event name "example" (also under calendar)`,
		}},
		{file: "calendar.yaml", want: []string{
			"spec.calendar[bad-cron].interval: invalid value: often",
			"spec.calendar[bad-cron].schedule: invalid value: 61 * * * *",
			"spec.calendar[bad-cron].timezone: invalid value: Nowhere/City",
			"spec.calendar[nothing]: expected schedule or interval",
		}},
		{file: "resource.yaml", want: []string{
			"spec.resource[pods].eventTypes[0]: invalid value: CREATE",
			"spec.resource[pods].filter.labels[0].key: missing field(s)",
			"spec.resource[pods].resource: missing field(s)",
			"spec.resource[pods].version: missing field(s)",
		}},
		{file: "github.yaml", want: []string{
			"spec.github[push].contentType: invalid value: xml",
			"spec.github[push].organizations: expected exactly one, got neither",
			"spec.github[push].repositories: expected exactly one, got neither",
			"spec.github[push].webhook.endpoint: missing field(s)",
		}},
		{file: "registered-url.yaml", want: []string{
			"spec.github[push].webhook.url: invalid value: github-hook-url",
		}},
		{file: "kafka.yaml", want: []string{
			"spec.kafka[orders].partition: missing field(s)",
			"spec.kafka[orders].sasl.mechanism: invalid value: LOGIN",
			"spec.kafka[orders].tls.clientCertSecret: clientCertSecret and clientKeySecret must be set together",
			"spec.kafka[orders].tls.clientKeySecret: clientCertSecret and clientKeySecret must be set together",
			"spec.kafka[orders].topic: missing field(s)",
		}},
		{file: "file-and-sftp.yaml", want: []string{
			"spec.file[watched].eventType: invalid value: MODIFY",
			"spec.file[watched].watchPathConfig.path: expected exactly one, got both",
			"spec.file[watched].watchPathConfig.pathRegexp: expected exactly one, got both",
			"spec.sftp[remote].address: missing field(s)",
			"spec.sftp[remote].pollIntervalDuration: invalid value: 10 seconds",
		}},
		{file: "file-path-regexp.yaml", want: []string{
			"spec.file[bad].watchPathConfig.pathRegexp: invalid value: logs/(a|b",
		}},
		{file: "queues.yaml", want: []string{
			"spec.amqp[a].exchangeName: missing field(s)",
			"spec.amqp[a].exchangeType: missing field(s)",
			"spec.amqp[a].routingKey: missing field(s)",
			"spec.amqp[a].url: expected exactly one, got both",
			"spec.amqp[a].urlSecret: expected exactly one, got both",
			"spec.nats[nats-source].subject: missing field(s)",
			"spec.pulsar[p].type: invalid value: failover",
			"spec.redis[r].channels: missing field(s)",
			"spec.sqs[q].queue: missing field(s)",
			"spec.sqs[q].region: missing field(s)",
			"spec.sqs[q].waitTimeSeconds: expected 0 <= 30 <= 20",
		}},
		{file: "shared-rules.yaml", want: []string{
			"spec.azureServiceBus[both].queueName: expected queueName or topicName with subscriptionName, got both",
			"spec.azureServiceBus[both].topicName: expected queueName or topicName with subscriptionName, got both",
			"spec.azureServiceBus[neither].queueName: expected queueName or topicName with subscriptionName, got neither",
			"spec.azureServiceBus[neither].topicName: expected queueName or topicName with subscriptionName, got neither",
			"spec.azureServiceBus[no-subscription].subscriptionName: missing field(s)",
			"spec.minio[no-bucket-name].bucket.name: missing field(s)",
			"spec.minio[no-bucket].accessKey: missing field(s)",
			"spec.minio[no-bucket].bucket: missing field(s)",
			"spec.minio[no-bucket].caCertificate.key: missing field(s)",
			"spec.minio[no-bucket].secretKey: missing field(s)",
			"spec.pulsar[athenz].authAthenzSecret: missing field(s)",
			"spec.pulsar[athenz].authTokenSecret.name: missing field(s)",
			"spec.pulsar[athenz].tls.clientCertSecret: clientCertSecret and clientKeySecret must be set together",
			"spec.pulsar[athenz].tls.clientKeySecret: clientCertSecret and clientKeySecret must be set together",
			"spec.pulsar[athenz].tlsTrustCertsSecret.key: missing field(s)",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			var es EventSource
			decodeFile(t, "eventsource/"+tc.file, &es)
			es.SetDefaults(context.Background())
			if got := flat(es.Validate(context.Background())); !slices.Equal(got, tc.want) {
				t.Errorf("Validate() =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestWebhookBindings(t *testing.T) {
	t.Parallel()
	var es EventSource
	decodeFile(t, "eventsource/valid.yaml", &es)
	got := es.Spec.WebhookBindings()
	want := []WebhookBinding{
		{TypeKey: "github", EventName: "push", Port: "13000", Endpoint: "/push", Path: "spec.github[push].webhook"},
		{TypeKey: "webhook", EventName: "example", Port: "12000", Endpoint: "/example", Method: "POST", Path: "spec.webhook[example]"},
		{TypeKey: "webhook", EventName: "other", Port: "12000", Endpoint: "/other", Method: "GET", Path: "spec.webhook[other]"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("WebhookBindings() =\n  %+v\nwant\n  %+v", got, want)
	}
}

func TestKeepEntries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		typeKey     string
		keep        []string
		wantWebhook []string
		wantGithub  []string
		wantMissing []string
	}{
		{name: "one of two", typeKey: "webhook", keep: []string{"other"}, wantWebhook: []string{"other"}, wantGithub: []string{"push"}},
		{name: "all", typeKey: "webhook", keep: []string{"example", "other"}, wantWebhook: []string{"example", "other"}, wantGithub: []string{"push"}},
		{name: "an unknown name", typeKey: "webhook", keep: []string{"example", "nope"}, wantWebhook: []string{"example"}, wantGithub: []string{"push"}, wantMissing: []string{"nope"}},
		{name: "another type is left alone", typeKey: "github", keep: nil, wantWebhook: []string{"example", "other"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var es EventSource
			decodeFile(t, "eventsource/valid.yaml", &es)
			missing := es.Spec.KeepEntries(tc.typeKey, tc.keep)
			if !slices.Equal(missing, tc.wantMissing) {
				t.Errorf("missing = %v, want %v", missing, tc.wantMissing)
			}
			if got := es.Spec.EventNames("webhook"); !slices.Equal(got, tc.wantWebhook) {
				t.Errorf("webhook entries = %v, want %v", got, tc.wantWebhook)
			}
			if got := es.Spec.EventNames("github"); !slices.Equal(got, tc.wantGithub) {
				t.Errorf("github entries = %v, want %v", got, tc.wantGithub)
			}
		})
	}
}
