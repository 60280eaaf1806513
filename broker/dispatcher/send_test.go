package dispatcher

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSendOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		wantOK    bool
		wantCode  int
		wantReply string
		wantBody  string
	}{
		{name: "empty 200", handler: func(w http.ResponseWriter, r *http.Request) {}, wantOK: true, wantCode: 200},
		{name: "204", handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, wantOK: true, wantCode: 204},
		{name: "202 body is not a reply", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(202)
			_, _ = w.Write([]byte("queued"))
		}, wantOK: true, wantCode: 202},
		{name: "binary reply", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Ce-Specversion", "1.0")
			w.Header().Set("Ce-Id", "r1")
			w.Header().Set("Ce-Source", "/reply")
			w.Header().Set("Ce-Type", "reply.type")
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("hi"))
		}, wantOK: true, wantCode: 200, wantReply: "reply.type"},
		{name: "structured reply", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/cloudevents+json")
			_, _ = w.Write([]byte(`{"specversion":"1.0","id":"r2","source":"/reply","type":"structured.reply"}`))
		}, wantOK: true, wantCode: 200, wantReply: "structured.reply"},
		{name: "plain body is a bad gateway", handler: func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("hello"))
		}, wantCode: 502, wantBody: "hello"},
		{name: "invalid reply event", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Ce-Specversion", "1.0")
			w.Header().Set("Ce-Source", "/reply")
		}, wantCode: 502},
		{name: "500 with body", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", 500)
		}, wantCode: 500, wantBody: "boom\n"},
		{name: "redirect not followed", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}, wantCode: 307},
		{name: "timeout", handler: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, wantCode: 0},
	}
	s := newSender(newTransport(10), 1<<20)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seen := make(chan http.Header, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen <- r.Header.Clone()
				tc.handler(w, r)
			}))
			defer srv.Close()
			ev := cloudevents.NewEvent()
			ev.SetID("e1")
			ev.SetSource("/s")
			ev.SetType("t")
			ev.SetExtension("myext", int32(5))
			out := s.send(context.Background(), mustURL(t, srv.URL), &ev, 200*time.Millisecond, false, true)
			if out.ok() != tc.wantOK || out.code != tc.wantCode {
				t.Fatalf("outcome ok=%v code=%d err=%v, want ok=%v code=%d", out.ok(), out.code, out.err, tc.wantOK, tc.wantCode)
			}
			if tc.wantReply != "" && (out.reply == nil || out.reply.Type() != tc.wantReply) {
				t.Fatalf("reply = %v, want type %q", out.reply, tc.wantReply)
			}
			if tc.wantReply == "" && out.reply != nil {
				t.Fatalf("unexpected reply %v", out.reply)
			}
			if tc.wantBody != "" && string(out.body) != tc.wantBody {
				t.Fatalf("body = %q, want %q", out.body, tc.wantBody)
			}
			h := <-seen
			if h.Get("Prefer") != "reply" || h.Get("Ce-Id") != "e1" || h.Get("Ce-Myext") != "5" {
				t.Fatalf("request headers Prefer=%q Ce-Id=%q Ce-Myext=%q", h.Get("Prefer"), h.Get("Ce-Id"), h.Get("Ce-Myext"))
			}
		})
	}
}

func TestSendStructured(t *testing.T) {
	t.Parallel()
	seen := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		seen <- r
	}))
	defer srv.Close()
	ev := cloudevents.NewEvent()
	ev.SetID("s1")
	ev.SetSource("/s")
	ev.SetType("t")
	_ = ev.SetData(cloudevents.ApplicationJSON, map[string]int{"n": 1})
	s := newSender(newTransport(1), 1<<20)
	if out := s.send(context.Background(), mustURL(t, srv.URL), &ev, time.Second, true, false); !out.ok() {
		t.Fatal(out.err)
	}
	r := <-seen
	got, err := binding.ToEvent(context.Background(), cehttp.NewMessageFromHttpRequest(r))
	if err != nil {
		t.Fatal(err)
	}
	if r.Header.Get("Content-Type") != cloudevents.ApplicationCloudEventsJSON || r.Header.Get("Ce-Id") != "" || got.ID() != "s1" {
		t.Fatalf("structured request: content type %q, ce-id header %q, event %v", r.Header.Get("Content-Type"), r.Header.Get("Ce-Id"), got)
	}
}

func TestRetryDelayHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, "-1": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
	d := Delivery{BackoffPolicy: "linear", BackoffDelay: time.Second, RetryAfterMax: 10 * time.Second}
	for _, tc := range []struct {
		retryAfter, want time.Duration
	}{{0, time.Second}, {5 * time.Second, 5 * time.Second}, {time.Minute, 10 * time.Second}} {
		if got := d.retryDelay(1, outcome{retryAfter: tc.retryAfter}); got != tc.want {
			t.Errorf("retryDelay with Retry-After %s = %s, want %s", tc.retryAfter, got, tc.want)
		}
	}
	d.RetryAfterMax = 0
	if got := d.retryDelay(1, outcome{retryAfter: time.Minute}); got != time.Second {
		t.Errorf("retryDelay ignoring Retry-After = %s, want 1s", got)
	}
}

// A failure's description quotes the first line of a text answer, the reason a
// subscriber gives, and nothing of a binary one.
func TestDescribeQuotesTextReason(t *testing.T) {
	t.Parallel()
	failed := errors.New("posting to http://s: status 422")
	tests := []struct {
		name string
		out  outcome
		want string
	}{
		{name: "no body", out: outcome{code: 422, err: failed}, want: "posting to http://s: status 422"},
		{name: "text reason", out: outcome{code: 422, err: failed, body: []byte("trigger t: http.payload[0]: path does not exist\nmore\n")},
			want: "posting to http://s: status 422: trigger t: http.payload[0]: path does not exist"},
		{name: "binary body", out: outcome{code: 500, err: failed, body: []byte{0xff, 0xfe, 0x00, 0x01}}, want: "posting to http://s: status 422"},
		{name: "reason already in the error", out: outcome{code: 500, err: errors.New("in-process subscriber: boom"), body: []byte("boom")},
			want: "in-process subscriber: boom"},
		{name: "delivered", out: outcome{code: 202}, want: ""},
	}
	for _, tc := range tests {
		if got := tc.out.describe(); got != tc.want {
			t.Errorf("%s: describe() = %q, want %q", tc.name, got, tc.want)
		}
	}
}
