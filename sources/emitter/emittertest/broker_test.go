package emittertest

import "testing"

// TestAuthorize checks the stand-in splits and checks topics as emitter
// does: the key is the first segment and must grant the operation on the
// channel's prefix; a channel ends with "/" and has no empty segment.
func TestAuthorize(t *testing.T) {
	b := &Broker{opts: Options{Keys: map[string]Grant{
		"r": {Channel: "chat/", Read: true},
		"w": {Channel: "chat/", Write: true},
	}}}
	for _, tc := range []struct {
		topic       string
		read        bool
		wantChannel string
		wantStatus  int
	}{
		{"r/chat/", true, "chat/", 0},
		{"r/chat/room/", true, "chat/room/", 0},
		{"r/chat/+/", true, "chat/+/", 0},
		{"r/chat/?last=5", true, "chat/", 0},
		{"r/chat/", false, "", 401},
		{"w/chat/", false, "chat/", 0},
		{"w/chat/+/", false, "", 400},
		{"w/chat/", true, "", 401},
		{"r/other/", true, "", 401},
		{"x/chat/", true, "", 401},
		{"r/chat", true, "", 400},
		{"r/chat//", true, "", 400},
		{"/chat/", true, "", 400},
	} {
		channel, status := b.authorize(tc.topic, tc.read)
		if channel != tc.wantChannel || status != tc.wantStatus {
			t.Errorf("authorize(%q, read=%v) = %q, %d; want %q, %d", tc.topic, tc.read, channel, status, tc.wantChannel, tc.wantStatus)
		}
	}
}

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		sub, channel string
		want         bool
	}{
		{"chat/", "chat/", true},
		{"chat/", "chat/room/", true},
		{"chat/room/", "chat/", false},
		{"chat/+/", "chat/room/", true},
		{"chat/+/x/", "chat/room/y/", false},
		{"chat/#/", "chat/a/b/", true},
		{"chat/", "chatter/", false},
	} {
		if got := matches(tc.sub, tc.channel); got != tc.want {
			t.Errorf("matches(%q, %q) = %v, want %v", tc.sub, tc.channel, got, tc.want)
		}
	}
}
