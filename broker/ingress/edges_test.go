package ingress_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/flintevents/flint/broker/ingress"
	"github.com/flintevents/flint/pkg/natsd"
)

// slowPublisher waits before handing the event to the real publisher, as a JetStream
// acknowledgement under load does.
type slowPublisher struct {
	next  ingress.Publisher
	delay time.Duration
}

func (p slowPublisher) Publish(ctx context.Context, subject string, ev *cloudevents.Event) error {
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
		return fmt.Errorf("waiting to publish: %w", ctx.Err())
	}
	return p.next.Publish(ctx, subject, ev)
}

// A client that sends its whole request and then closes its side of the connection
// still gets its event stored and a 202: once the body is read the store is finished.
func TestHalfClosedClientStillStored(t *testing.T) {
	t.Parallel()
	f := newFixtureWith(t, ingress.Config{}, natsd.Options{Port: -1}, func(p ingress.Publisher) ingress.Publisher {
		return slowPublisher{next: p, delay: 300 * time.Millisecond}
	})
	u, err := url.Parse(f.url)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"a":1}`
	req := "POST /default/b1 HTTP/1.1\r\nHost: " + u.Host + "\r\n" +
		"Ce-Specversion: 1.0\r\nCe-Id: half\r\nCe-Source: /src\r\nCe-Type: t\r\n" +
		"Content-Type: application/json\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(resp.Body)
		t.Errorf("status = %d (%s), want 202", resp.StatusCode, b)
	}
	if n := f.msgs(t); n != 1 {
		t.Errorf("stream holds %d events, want 1", n)
	}
}

// An event whose body fits the limit but whose stored form does not (attributes added,
// a text body escaped) is refused with 413, never with a retryable 503.
func TestTooLargeOnceEncoded(t *testing.T) {
	t.Parallel()
	const payload = 4096
	f := newFixtureWith(t, ingress.Config{MaxEventSize: 8192}, natsd.Options{Port: -1, MaxPayload: payload}, nil)
	capped := newFixture(t, ingress.Config{MaxEventSize: 1024, MaxStoredSize: 1200})
	tests := []struct {
		name   string
		url    string
		header http.Header
		body   string
		want   int
	}{
		{name: "stored form over MaxStoredSize", url: capped.url, header: withHeader(binaryHeaders(""), "Ce-Longext", strings.Repeat("y", 300)),
			body: strings.Repeat("x", 1024), want: http.StatusRequestEntityTooLarge},
		{name: "stored form within MaxStoredSize", url: capped.url, header: withHeader(binaryHeaders(""), "Ce-Longext", strings.Repeat("y", 50)),
			body: strings.Repeat("x", 1024), want: http.StatusAccepted},
		{name: "fits", header: binaryHeaders(""), body: strings.Repeat("x", 1024), want: http.StatusAccepted},
		{name: "body alone over the store's limit", header: withHeader(binaryHeaders(""), "Ce-Id", "big"),
			body: strings.Repeat("x", payload+1), want: http.StatusRequestEntityTooLarge},
		{name: "body fits, attributes push it over", header: withHeader(withHeader(binaryHeaders(""), "Ce-Id", "attrs"),
			"Ce-Longext", strings.Repeat("y", 200)), body: strings.Repeat("x", payload-150), want: http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := f.url
			if tc.url != "" {
				u = tc.url
			}
			code, body := post(t, u+"/default/b1", tc.header, tc.body)
			if code != tc.want {
				t.Fatalf("status = %d (%s), want %d", code, body, tc.want)
			}
			if tc.want == http.StatusRequestEntityTooLarge && !strings.Contains(body, "too large") {
				t.Errorf("body %q does not say the event is too large", body)
			}
		})
	}
}

// Attributes the broker cannot honour are refused with 400 and the reason.
func TestInvalidAttributes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ingress.Config{})
	structured := http.Header{"Content-Type": {"application/cloudevents+json"}}
	tests := []struct {
		name       string
		header     http.Header
		body       string
		wantInBody string
	}{
		{name: "ttl not a number", header: withHeader(binaryHeaders(""), "Ce-Knativebrokerttl", "abc"), wantInBody: "knativebrokerttl"},
		{name: "ttl out of range", header: withHeader(binaryHeaders(""), "Ce-Knativebrokerttl", "99999999999"), wantInBody: "knativebrokerttl"},
		{name: "ttl negative", header: withHeader(binaryHeaders(""), "Ce-Knativebrokerttl", "-3"), wantInBody: "knativebrokerttl"},
		{name: "structured ttl not a number", header: structured,
			body: `{"specversion":"1.0","id":"s1","source":"/src","type":"t","knativebrokerttl":"x"}`, wantInBody: "knativebrokerttl"},
		{name: "invalid utf-8 in subject", header: withHeader(binaryHeaders(""), "Ce-Subject", "a\xffb"), wantInBody: "UTF-8"},
		{name: "invalid utf-8 in an extension", header: withHeader(binaryHeaders(""), "Ce-Myext", "\xc3\x28"), wantInBody: "UTF-8"},
		{name: "invalid utf-8 in type", header: withHeader(binaryHeaders(""), "Ce-Type", "t\xfe"), wantInBody: "UTF-8"},
		{name: "structured invalid utf-8", header: structured,
			body: "{\"specversion\":\"1.0\",\"id\":\"s\xff\",\"source\":\"/src\",\"type\":\"t\"}", wantInBody: "UTF-8"},
		{name: "unknown binary specversion", header: withHeader(binaryHeaders(""), "Ce-Specversion", "2.0"), wantInBody: `unsupported specversion "2.0"`},
		{name: "unknown structured specversion", header: structured,
			body: `{"specversion":"9.9","id":"s1","source":"/src","type":"t"}`, wantInBody: "9.9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, body := post(t, f.url+"/default/b1", tc.header, tc.body)
			if code != http.StatusBadRequest {
				t.Fatalf("status = %d (%s), want 400", code, body)
			}
			if !strings.Contains(body, tc.wantInBody) {
				t.Errorf("body %q does not mention %q", body, tc.wantInBody)
			}
		})
	}
	if n := f.msgs(t); n != 0 {
		t.Errorf("stream holds %d events after refusals, want 0", n)
	}
}

func post(t *testing.T, u string, header http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// JSON data nested deeper than a sensor takes is refused with 400 naming the limit,
// by a POST and by an in-process Publish alike: stored, it could only fail in the
// sensor on every delivery and be dead-lettered.
func TestDataNestedDeeperThanSensorsTake(t *testing.T) {
	t.Parallel()
	f := newFixture(t, ingress.Config{})
	nested := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name        string
		contentType string
		data        string
		want        int
	}{
		{name: "1000 deep", contentType: "application/json", data: nested(1000), want: http.StatusAccepted},
		{name: "1001 deep", contentType: "application/json", data: nested(1001), want: http.StatusBadRequest},
		{name: "5000 deep", contentType: "application/json", data: nested(5000), want: http.StatusBadRequest},
		{name: "5000 deep objects", contentType: "application/json; charset=utf-8",
			data: strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000), want: http.StatusBadRequest},
		{name: "brackets inside a string", contentType: "application/json", data: `"` + strings.Repeat("[", 5000) + `"`, want: http.StatusAccepted},
		{name: "brackets after an escaped quote", contentType: "application/json", data: `["\"` + strings.Repeat("[", 5000) + `"]`, want: http.StatusAccepted},
		{name: "strings of brackets between 1001 levels", contentType: "application/json",
			data: strings.Repeat(`["[{\\",`, 1001) + "1" + strings.Repeat("]", 1001), want: http.StatusBadRequest},
		{name: "not JSON", contentType: "text/plain", data: strings.Repeat("[", 5000), want: http.StatusAccepted},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := fmt.Sprintf("deep-%d", i)
			header := withHeader(withHeader(binaryHeaders(""), "Ce-Id", id+"-http"), "Content-Type", tc.contentType)
			code, body := post(t, f.url+"/default/b1", header, tc.data)
			if code != tc.want {
				t.Fatalf("POST: status = %d (%s), want %d", code, body, tc.want)
			}
			const reason = "more than 1000 levels of nesting"
			if tc.want == http.StatusBadRequest && !strings.Contains(body, reason) {
				t.Errorf("POST: body %q does not name the limit", body)
			}

			ev := cloudevents.NewEvent()
			ev.SetID(id + "-local")
			ev.SetSource("/src")
			ev.SetType("t")
			if err := ev.SetData(tc.contentType, []byte(tc.data)); err != nil {
				t.Fatal(err)
			}
			err := f.h.Publish(context.Background(), "default", "b1", &ev)
			if tc.want == http.StatusAccepted && err != nil {
				t.Fatalf("Publish = %v, want stored", err)
			}
			if tc.want == http.StatusBadRequest && (!errors.Is(err, ingress.ErrInvalidEvent) || !strings.Contains(err.Error(), reason)) {
				t.Fatalf("Publish = %v, want ErrInvalidEvent naming the limit", err)
			}
		})
	}
}
