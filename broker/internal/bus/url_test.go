package bus

import "testing"

func TestRedacted(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"nats://flint:s3cret@nats.flint-system.svc.cluster.local:4222", "nats://flint:xxxxx@nats.flint-system.svc.cluster.local:4222"},
		{"nats://nats.flint-system.svc.cluster.local:4222", "nats://nats.flint-system.svc.cluster.local:4222"},
		{"nats://token@host:4222", "nats://token@host:4222"},
	}
	for _, tc := range tests {
		if got := Redacted(tc.in); got != tc.want {
			t.Errorf("Redacted(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
