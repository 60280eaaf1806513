package kafka

import (
	"slices"
	"strings"
	"testing"
)

func TestSaramaConfig(t *testing.T) {
	cases := []struct {
		name        string
		config      string
		group       bool
		wantOpts    int
		wantIgnored []string
		wantErr     bool
	}{{
		name: "mapped settings become options, the others are named",
		config: `
clientID: shop
net:
  dialTimeout: 5s
  keepAlive: 30s
consumer:
  fetch: {min: 1, max: 1048576}
  maxWaitTime: 250ms
  offsets:
    initial: -2
    autoCommit: {interval: 1s}
  group:
    session: {timeout: 20s}
producer:
  retry: {max: 3}
`,
		group:       true,
		wantOpts:    6, // clientID, dialTimeout, fetch.min, fetch.max, maxWaitTime, session.timeout
		wantIgnored: []string{"consumer.offsets.autoCommit.interval", "net.keepAlive", "producer.retry.max"},
	}, {
		name:        "group settings are ignored in partition mode",
		config:      "consumer: {group: {heartbeat: {interval: 3s}}}",
		wantIgnored: []string{"consumer.group.heartbeat.interval"},
	}, {
		name:    "a wrong value of a mapped setting is an error",
		config:  "consumer: {fetch: {min: -1}}",
		wantErr: true,
	}, {
		name:    "not YAML",
		config:  "consumer: [",
		wantErr: true,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseSaramaConfig(c.config, c.group)
			if (err != nil) != c.wantErr {
				t.Fatalf("error %v, want error %v", err, c.wantErr)
			}
			if err != nil {
				if !strings.HasPrefix(err.Error(), "invalid value: ") || !strings.Contains(err.Error(), ": config") {
					t.Errorf("error %q, want one at config", err.Error())
				}
				return
			}
			if n := len(got.client) + len(got.group); n != c.wantOpts {
				t.Errorf("%d options, want %d", n, c.wantOpts)
			}
			if !slices.Equal(got.ignored, c.wantIgnored) {
				t.Errorf("ignored %v, want %v", got.ignored, c.wantIgnored)
			}
		})
	}
}
