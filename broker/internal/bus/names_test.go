package bus

import (
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 253)
	tests := []struct {
		name, got, want string
	}{
		{"stream", StreamName("default", "b1"), "broker_default__b1"},
		{"stream with dots", StreamName("ns", "my.broker"), "broker_ns__my_broker"},
		{"subject", Subject("ns", "my.broker"), "flint.broker.ns.my_broker"},
		{"consumer without uid", ConsumerName("ns", "t.1", ""), "trigger_ns__t_1"},
		{"consumer with uid", ConsumerName("ns", "t", "0f9e-11"), "trigger_ns__t__0f9e-11"},
		{"retry consumer", RetryConsumerName("ns", "t.1", "0f9e-11"), "trigger_ns__t_1__0f9e-11__retries"},
		{"retry subject", RetrySubject("ns", "my.broker", "t.1"), "flint.retry.ns.my_broker.t_1"},
		{"retry subjects", RetrySubjects("ns", "my.broker"), "flint.retry.ns.my_broker.*"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	for _, n := range []string{StreamName("ns", long), ConsumerName("ns", long, "uid"), RetryConsumerName("ns", long, "uid")} {
		if len(n) > maxNameLen || strings.ContainsAny(n, ".*> ") {
			t.Errorf("name %q (%d chars) is not a valid JetStream name", n, len(n))
		}
	}
	if StreamName("ns", long) == StreamName("ns", long[:252]+"b") {
		t.Error("shortened names of different brokers collide")
	}
	if ConsumerName("ns", long, "uid") == RetryConsumerName("ns", long, "uid") {
		t.Error("a trigger's shortened consumer name is its retry lane's")
	}
}

func TestMsgID(t *testing.T) {
	t.Parallel()
	if MsgID("/src", "1") != MsgID("/src", "1") {
		t.Fatal("MsgID is not deterministic")
	}
	for _, pair := range [][4]string{{"/a", "bc", "/ab", "c"}, {"/src", "1", "/other", "1"}, {"/src", "1", "/src", "2"}} {
		if MsgID(pair[0], pair[1]) == MsgID(pair[2], pair[3]) {
			t.Errorf("MsgID(%q, %q) == MsgID(%q, %q)", pair[0], pair[1], pair[2], pair[3])
		}
	}
	if long := strings.Repeat("s", 1000); MsgID(long, "1") == MsgID(long, "2") {
		t.Error("MsgID of long sources collide")
	}
}
