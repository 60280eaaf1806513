package wire_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/flintevents/flint/broker/internal/wire"
)

func fullEvent(t testing.TB) *cloudevents.Event {
	t.Helper()
	ev := cloudevents.NewEvent()
	ev.SetID("id-1")
	ev.SetSource("/apis/v1/namespaces/default/webhook/github")
	ev.SetType("webhook")
	ev.SetSubject("example")
	ev.SetTime(time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC))
	ev.SetDataSchema("https://example.com/schema")
	ev.SetExtension("strext", "v a l")
	ev.SetExtension("intext", int32(42))
	ev.SetExtension("boolext", true)
	ev.SetExtension("binext", []byte{0, 1, 2})
	ev.SetExtension("timeext", types.Timestamp{Time: time.Date(2025, 5, 5, 0, 0, 0, 0, time.UTC)})
	if err := ev.SetData("application/json", map[string]any{"body": "x"}); err != nil {
		t.Fatal(err)
	}
	return &ev
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   func(t testing.TB) *cloudevents.Event
	}{
		{name: "all attributes and extensions", ev: fullEvent},
		{name: "required only, no data", ev: func(t testing.TB) *cloudevents.Event {
			ev := cloudevents.NewEvent()
			ev.SetID("a")
			ev.SetSource("s")
			ev.SetType("t")
			return &ev
		}},
		{name: "specversion 0.3", ev: func(t testing.TB) *cloudevents.Event {
			ev := cloudevents.NewEvent(cloudevents.VersionV03)
			ev.SetID("a")
			ev.SetSource("s")
			ev.SetType("t")
			ev.SetExtension("x", "y")
			return &ev
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tc.ev(t)
			body, err := wire.Append(nil, in)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			out, err := wire.Decode(body)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if out.String() != in.String() {
				t.Fatalf("round trip differs:\n got %s\nwant %s", out, in)
			}
			if !bytes.Equal(out.Data(), in.Data()) {
				t.Fatalf("data = %q, want %q", out.Data(), in.Data())
			}
			if err := out.Validate(); err != nil {
				t.Fatalf("decoded event invalid: %v", err)
			}
		})
	}
}

func TestDecodeCorrupt(t *testing.T) {
	t.Parallel()
	good, err := wire.Append(nil, fullEvent(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range [][]byte{nil, []byte("{}"), good[:5], {0xCE, 2, 0}} {
		if _, err := wire.Decode(body); !errors.Is(err, wire.ErrCorrupt) {
			t.Errorf("Decode(%q) error = %v, want ErrCorrupt", body, err)
		}
	}
}

func TestNextHop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ttl     any
		wantTTL int32
		wantOK  bool
	}{
		{name: "missing gets default", ttl: nil, wantTTL: 255, wantOK: true},
		{name: "int decremented", ttl: int32(10), wantTTL: 9, wantOK: true},
		{name: "string decremented", ttl: "3", wantTTL: 2, wantOK: true},
		{name: "last hop spent", ttl: int32(1), wantTTL: 0, wantOK: false},
		{name: "zero spent", ttl: "0", wantTTL: -1, wantOK: false},
		{name: "unreadable gets default", ttl: "abc", wantTTL: 255, wantOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := cloudevents.NewEvent()
			if tc.ttl != nil {
				ev.SetExtension(wire.TTLExtension, tc.ttl)
			}
			ttl, ok := wire.NextHop(&ev, wire.DefaultTTL)
			if ttl != tc.wantTTL || ok != tc.wantOK {
				t.Fatalf("NextHop = (%d, %v), want (%d, %v)", ttl, ok, tc.wantTTL, tc.wantOK)
			}
			wire.SetTTL(&ev, ttl)
			if got, _ := wire.TTL(&ev); got != ttl {
				t.Fatalf("TTL after SetTTL = %d, want %d", got, ttl)
			}
			wire.RemoveTTL(&ev)
			if _, ok := ev.Extensions()[wire.TTLExtension]; ok {
				t.Fatal("RemoveTTL left the extension")
			}
		})
	}
}

func BenchmarkAppendDecode(b *testing.B) {
	ev := fullEvent(b)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		body, err := wire.Append(buf[:0], ev)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := wire.Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDecodeTruncatedNeverPanics(t *testing.T) {
	t.Parallel()
	body, err := wire.Append(nil, fullEvent(t))
	if err != nil {
		t.Fatal(err)
	}
	dataStart := len(body) - len(fullEvent(t).Data())
	for n := range len(body) {
		ev, err := wire.Decode(body[:n])
		if n < dataStart && err == nil {
			t.Fatalf("Decode of %d/%d bytes (inside the attributes) succeeded: %v", n, len(body), ev)
		}
	}
}
