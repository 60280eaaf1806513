package bus

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A retry lane message reads back as written; a message whose headers were not
// written by RetryMsg is refused naming the header.
func TestRetryMsg(t *testing.T) {
	t.Parallel()
	at := time.UnixMilli(1_800_000_000_123)
	tests := []struct {
		name    string
		retry   Retry
		headers nats.Header // instead of RetryMsg's, when set
		want    Retry
		wantErr string
	}{
		{name: "subscriber retry", retry: Retry{Attempt: 2, At: at, Origin: 42}, want: Retry{Attempt: 2, At: at, Origin: 42}},
		{name: "dead-letter sink retry", retry: Retry{Attempt: 5, At: at, Origin: 7, DeadLettering: true, Code: 503, Error: "down\nfor now"},
			want: Retry{Attempt: 5, At: at, Origin: 7, DeadLettering: true, Code: 503, Error: "down / for now"}},
		{name: "no headers", headers: nats.Header{}, wantErr: headerRetryAttempt},
		{name: "bad time", headers: nats.Header{headerRetryAttempt: {"2"}, headerRetryAt: {"soon"}, headerRetryOrigin: {"1"}}, wantErr: headerRetryAt + ` "soon" is not a time`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg := RetryMsg("ns", "b", "t", tc.retry, []byte("event"))
			if msg.Subject != RetrySubject("ns", "b", "t") || string(msg.Data) != "event" || msg.Header.Get(jetstream.MsgIDHeader) == "" {
				t.Fatalf("RetryMsg = %+v, want the event on the trigger's retry subject with a de-duplication key", msg)
			}
			h := msg.Header
			if tc.headers != nil {
				h = tc.headers
			}
			got, err := ReadRetry(h)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ReadRetry = %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !got.At.Equal(tc.want.At) || got.Attempt != tc.want.Attempt || got.Origin != tc.want.Origin ||
				got.DeadLettering != tc.want.DeadLettering || got.Code != tc.want.Code || got.Error != tc.want.Error {
				t.Fatalf("ReadRetry = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	a := RetryMsg("ns", "b", "t", Retry{Attempt: 2, Origin: 1}, nil).Header.Get(jetstream.MsgIDHeader)
	b := RetryMsg("ns", "b", "t", Retry{Attempt: 3, Origin: 1}, nil).Header.Get(jetstream.MsgIDHeader)
	if a == b {
		t.Error("two attempts of one event share a de-duplication key")
	}
}
