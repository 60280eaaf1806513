package v1alpha1

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestSensorValidate(t *testing.T) {
	t.Parallel()
	const tmplKeys = "[argoWorkflow, awsLambda, azureEventHubs, azureServiceBus, custom, email, http, k8s, kafka, log, nats, openWhisk, pulsar, slack]"
	tests := []struct {
		file string
		want []string
		// detail, when set, must appear in the details of the diagnostic at detailPath.
		detailPath, detail string
	}{
		{file: "valid.yaml"},
		{file: "missing-name.yaml", want: []string{"metadata.name: missing field(s)"}},
		{file: "no-dependencies.yaml", want: []string{"spec.dependencies: missing field(s)"}},
		{file: "no-triggers.yaml", want: []string{"spec.triggers: missing field(s)"}},
		{file: "dependency-missing-fields.yaml", want: []string{
			"spec.dependencies[0].eventName: missing field(s)",
			"spec.dependencies[0].name: missing field(s)",
			"spec.dependencies[1].eventSourceName: missing field(s)",
		}},
		{file: "duplicate-dependency.yaml", want: []string{
			`spec.dependencies[1].name: duplicate dependency name "test-dep" (also dependencies[0])`,
		}},
		{file: "duplicate-trigger.yaml", want: []string{
			`spec.triggers[1].template.name: duplicate trigger name "log-trigger" (also triggers[0])`,
		}},
		// Code the sensor runs (conditions, cron, Go templates, regular
		// expressions, jq, Lua) is the sensor engine's to compile and check.
		{file: "conditions-unknown-dependency.yaml"},
		{file: "conditions-syntax.yaml"},
		{file: "conditions-reset-cron.yaml", want: []string{
			"spec.triggers[0].template.conditionsReset[0].byTime.timezone: invalid value: Europe/Nowhere",
			"spec.triggers[0].template.conditionsReset[1].byTime: missing field(s)",
		}},
		{file: "parameter-unknown-dependency.yaml",
			want:       []string{"spec.triggers[0].template.http.payload[1].src.dependencyName: invalid value: nope"},
			detailPath: "spec.triggers[0].template.http.payload[1].src.dependencyName", detail: "unknown dependency"},
		{file: "parameter-bad-operation.yaml",
			want:       []string{"spec.triggers[0].parameters[0].operation: invalid value: replace"},
			detailPath: "spec.triggers[0].parameters[0].operation", detail: "must be one of overwrite, append, prepend"},
		{file: "parameter-missing-dest-and-src.yaml", want: []string{
			"spec.triggers[0].parameters[0].dest: missing field(s)",
			"spec.triggers[0].parameters[1].src: missing field(s)",
		}},
		{file: "data-filter-type.yaml", want: []string{
			"spec.dependencies[0].filters.data[0].type: invalid value: integer",
			"spec.dependencies[0].filters.data[1].type: missing field(s)",
		}},
		{file: "data-filter-comparator.yaml",
			want:       []string{"spec.dependencies[0].filters.data[0].comparator: invalid value: =="},
			detailPath: "spec.dependencies[0].filters.data[0].comparator", detail: "must be one of >=, >, =, !=, <, <="},
		{file: "data-filter-empty-value.yaml", want: []string{"spec.dependencies[0].filters.data[0].value: missing field(s)"}},
		{file: "data-filter-bad-regex.yaml"},
		{file: "data-filter-bad-number-and-bool.yaml", want: []string{
			"spec.dependencies[0].filters.data[0].value[1]: invalid value: ten",
			"spec.dependencies[0].filters.data[1].value[0]: invalid value: yes",
		}},
		{file: "data-filter-template.yaml"},
		{file: "expr-filter-missing.yaml", want: []string{
			"spec.dependencies[0].filters.exprs[0].fields: missing field(s)",
			"spec.dependencies[0].filters.exprs[1].expr: missing field(s)",
			"spec.dependencies[0].filters.exprs[1].fields[0].name: missing field(s)",
		}},
		{file: "time-filter.yaml", want: []string{
			"spec.dependencies[0].filters.time.start: invalid value: 9:00",
			"spec.dependencies[0].filters.time.timezone: invalid value: Mars/Olympus",
			"spec.dependencies[1].filters.time.start: start and stop must differ",
			"spec.dependencies[1].filters.time.stop: start and stop must differ",
		}},
		{file: "context-filter-empty.yaml", want: []string{
			"spec.dependencies[0].filters.context: expected at least one of type, subject, source, datacontenttype",
		}},
		{file: "logical-operators.yaml", want: []string{
			"spec.dependencies[0].filters.dataLogicalOperator: invalid value: AND",
			"spec.dependencies[0].filtersLogicalOperator: invalid value: xor",
		}},
		{file: "transform-and-script.yaml", want: []string{
			"spec.dependencies[1].transform: expected jq or script",
		}},
		{file: "policy-status.yaml", want: []string{
			"spec.triggers[0].policy.status.allow[1]: expected 100 <= 600 <= 599",
			"spec.triggers[0].policy.status.allow[2]: expected 100 <= 99 <= 599",
		}},
		{file: "template-missing.yaml", want: []string{"spec.triggers[0].template: missing field(s)"}},
		{file: "template-no-type.yaml", want: []string{
			"spec.triggers[0].template: expected exactly one of " + tmplKeys + ", got none",
		}},
		{file: "template-two-types.yaml", want: []string{
			"spec.triggers[0].template: expected exactly one of " + tmplKeys + ", got http, log",
		}},
		{file: "http-trigger.yaml", want: []string{
			"spec.triggers[0].template.http.method: invalid value: OPTIONS",
			"spec.triggers[0].template.http.secureHeaders[0].valueFrom: missing field(s)",
			"spec.triggers[0].template.http.timeout: invalid value: -1",
			"spec.triggers[0].template.http.url: missing field(s)",
		}},
		{file: "aws-lambda-trigger.yaml", want: []string{
			"spec.triggers[0].template.awsLambda.accessKey.key: missing field(s)",
			"spec.triggers[0].template.awsLambda.functionName: missing field(s)",
			"spec.triggers[0].template.awsLambda.invocationType: invalid value: Async",
			"spec.triggers[0].template.awsLambda.payload: missing field(s)",
			"spec.triggers[0].template.awsLambda.region: missing field(s)",
		}},
		{file: "kafka-trigger.yaml", want: []string{
			"spec.triggers[0].template.kafka.payload: missing field(s)",
			"spec.triggers[0].template.kafka.topic: missing field(s)",
			"spec.triggers[0].template.kafka.url: missing field(s)",
		}},
		{file: "nats-trigger.yaml", want: []string{
			"spec.triggers[0].template.nats.auth.nkey: expected exactly one, got both",
			"spec.triggers[0].template.nats.auth.token: expected exactly one, got both",
			"spec.triggers[0].template.nats.payload: missing field(s)",
			"spec.triggers[0].template.nats.subject: missing field(s)",
			"spec.triggers[0].template.nats.url: missing field(s)",
		}},
		{file: "slack-trigger.yaml", want: []string{"spec.triggers[0].template.slack.slackToken: missing field(s)"}},
		{file: "email-trigger.yaml", want: []string{
			"spec.triggers[0].template.email.host: missing field(s)",
			"spec.triggers[0].template.email.port: expected 0 <= 70000 <= 65535",
		}},
		{file: "custom-trigger.yaml",
			want: []string{
				"spec.triggers[0].template.custom.certSecret: missing field(s)",
				"spec.triggers[0].template.custom.serverURL: missing field(s)",
				"spec.triggers[0].template.custom.spec: missing field(s)",
			},
			detailPath: "spec.triggers[0].template.custom.certSecret", detail: "required when secure is true"},
		{file: "k8s-trigger.yaml", want: []string{
			"spec.triggers[0].template.k8s.operation: invalid value: apply",
			"spec.triggers[0].template.k8s.source: missing field(s)",
		}},
		{file: "k8s-trigger-source.yaml", want: []string{
			"spec.triggers[0].template.k8s.source.resource: expected a Kubernetes object",
			"spec.triggers[0].template.k8s.source: expected exactly one of [configmap, file, git, inline, resource, s3, url], got inline, resource",
		}},
		{file: "argo-workflow-trigger.yaml", want: []string{
			"spec.triggers[0].template.argoWorkflow.operation: invalid value: delete",
		}},
		{file: "openwhisk-trigger.yaml", want: []string{
			"spec.triggers[0].template.openWhisk.actionName: missing field(s)",
			"spec.triggers[0].template.openWhisk.host: missing field(s)",
			"spec.triggers[0].template.openWhisk.payload: missing field(s)",
		}},
		{file: "azure-event-hubs-trigger.yaml", want: []string{
			"spec.triggers[0].template.azureEventHubs.hubName: missing field(s)",
			"spec.triggers[0].template.azureEventHubs.payload: missing field(s)",
			"spec.triggers[0].template.azureEventHubs.sharedAccessKey: missing field(s)",
			"spec.triggers[0].template.azureEventHubs.sharedAccessKeyName: missing field(s)",
		}},
		{file: "azure-service-bus-trigger.yaml", want: []string{
			"spec.triggers[0].template.azureServiceBus.connectionString: missing field(s)",
			"spec.triggers[0].template.azureServiceBus.subscriptionName: missing field(s)",
		}},
		{file: "pulsar-trigger.yaml", want: []string{
			"spec.triggers[0].template.pulsar.payload: missing field(s)",
			"spec.triggers[0].template.pulsar.topic: missing field(s)",
		}},
		{file: "shared-rules-triggers.yaml", want: []string{
			"spec.triggers[0].template.azureServiceBus.queueName: expected queueName or topicName with subscriptionName, got both",
			"spec.triggers[0].template.azureServiceBus.topicName: expected queueName or topicName with subscriptionName, got both",
			"spec.triggers[1].template.pulsar.authAthenzSecret: missing field(s)",
			"spec.triggers[1].template.pulsar.tls.clientCertSecret: clientCertSecret and clientKeySecret must be set together",
			"spec.triggers[1].template.pulsar.tls.clientKeySecret: clientCertSecret and clientKeySecret must be set together",
			"spec.triggers[1].template.pulsar.tlsTrustCertsSecret.name: missing field(s)",
			"spec.triggers[2].template.k8s.source.s3.accessKey: missing field(s)",
			"spec.triggers[2].template.k8s.source.s3.bucket.name: missing field(s)",
			"spec.triggers[2].template.k8s.source.s3.endpoint: missing field(s)",
			"spec.triggers[2].template.k8s.source.s3.secretKey: missing field(s)",
			"spec.triggers[3].template.argoWorkflow.source.s3.bucket: missing field(s)",
			"spec.triggers[3].template.argoWorkflow.source.s3.secretKey.key: missing field(s)",
		},
			detailPath: "spec.triggers[1].template.pulsar.authAthenzSecret", detail: "required with authAthenzParams"},
		{file: "dlq-without-at-least-once.yaml", want: []string{
			"spec.triggers[0].atLeastOnce: must be true when dlqTrigger is set",
			"spec.triggers[0].dlqTrigger.atLeastOnce: must be true in a dlqTrigger",
		}},
		{file: "rate-limit-and-retry.yaml", want: []string{
			"spec.triggers[0].rateLimit.requestsPerUnit: invalid value: 0",
			"spec.triggers[0].rateLimit.unit: invalid value: Day",
			"spec.triggers[0].retryStrategy.duration: invalid value: soon",
			"spec.triggers[0].retryStrategy.factor: invalid value: two",
			"spec.triggers[0].retryStrategy.steps: invalid value: -1",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			var s Sensor
			decodeFile(t, "sensor/"+tc.file, &s)
			s.SetDefaults(context.Background())
			err := s.Validate(context.Background())
			if got := flat(err); !slices.Equal(got, tc.want) {
				t.Errorf("Validate() =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			if tc.detail != "" && !strings.Contains(details(err, tc.detailPath), tc.detail) {
				t.Errorf("details at %s = %q, want it to contain %q", tc.detailPath, details(err, tc.detailPath), tc.detail)
			}
		})
	}
}

func TestSensorValidateWithoutDefaults(t *testing.T) {
	t.Parallel()
	// Validation does not depend on defaults having been applied.
	var s Sensor
	decodeFile(t, "sensor/valid.yaml", &s)
	if err := s.Validate(context.Background()); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
}
