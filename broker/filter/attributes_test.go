package filter

import "testing"

func TestAttributes(t *testing.T) {
	t.Parallel()
	runMatchCases(t, []matchCase{
		{name: "nil map matches all", spec: attrs(nil), event: "bare", want: true},
		{name: "empty map matches all", spec: attrs(map[string]string{}), event: "nil-context", want: true},
		{name: "type equal", spec: attrs(map[string]string{"type": "dev.flint.webhook"}), event: "full", want: true},
		{name: "type differs", spec: attrs(map[string]string{"type": "dev.flint.sqs"}), event: "full", want: false},
		{name: "case-sensitive", spec: attrs(map[string]string{"type": "Dev.Flint.Webhook"}), event: "full", want: false},
		{name: "no prefix semantics", spec: attrs(map[string]string{"type": "dev.flint"}), event: "full", want: false},
		{name: "every context attribute", spec: attrs(map[string]string{
			"specversion":     "1.0",
			"id":              "abc-123",
			"source":          "https://github.com/flintevents/flint",
			"type":            "dev.flint.webhook",
			"subject":         "webhook_example",
			"time":            "2024-05-01T12:34:56.789Z",
			"dataschema":      "https://schemas.flint.dev/webhook.json",
			"schemaurl":       "https://schemas.flint.dev/webhook.json",
			"datacontenttype": "application/json; charset=utf-8",
			"datamediatype":   "application/json",
		}), event: "full", want: true},
		{name: "AND: one of two differs", spec: attrs(map[string]string{"type": "dev.flint.webhook", "subject": "other"}), event: "full", want: false},
		{name: "string extension", spec: attrs(map[string]string{"team": "payments"}), event: "full", want: true},
		{name: "integer extension formatted", spec: attrs(map[string]string{"priority": "7"}), event: "full", want: true},
		{name: "boolean extension formatted", spec: attrs(map[string]string{"urgent": "true"}), event: "full", want: true},
		{name: "binary extension as base64", spec: attrs(map[string]string{"blob": "AQID"}), event: "full", want: true},
		{name: "uri-reference extension", spec: attrs(map[string]string{"ref": "https://example.com/ref?x=1"}), event: "full", want: true},
		{name: "timestamp extension in UTC", spec: attrs(map[string]string{"when": "2024-05-01T10:00:00Z"}), event: "full", want: true},
		{name: "timestamp extension with offset differs", spec: attrs(map[string]string{"when": "2024-05-01T12:00:00+02:00"}), event: "full", want: false},
		{name: "missing extension", spec: attrs(map[string]string{"team": "payments"}), event: "bare", want: false},
		{name: "any value: present", spec: attrs(map[string]string{"subject": ""}), event: "full", want: true},
		{name: "any value: missing subject", spec: attrs(map[string]string{"subject": ""}), event: "bare", want: false},
		{name: "any value: missing time", spec: attrs(map[string]string{"time": ""}), event: "bare", want: false},
		{name: "any value: missing extension", spec: attrs(map[string]string{"team": ""}), event: "bare", want: false},
		{name: "any value: empty extension", spec: attrs(map[string]string{"blank": ""}), event: "full", want: false},
		{name: "any value: non-string extension", spec: attrs(map[string]string{"priority": ""}), event: "full", want: true},
		{name: "v0.3 context", spec: attrs(map[string]string{"type": "dev.flint.webhook", "specversion": "0.3", "priority": "7"}), event: "v03", want: true},
		{name: "v0.3 context differs", spec: attrs(map[string]string{"specversion": "1.0"}), event: "v03", want: false},
		{name: "nil context", spec: attrs(map[string]string{"type": ""}), event: "nil-context", want: false},
	})
}
