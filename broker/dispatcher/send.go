package dispatcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/cloudevents/sdk-go/v2/types"

	"github.com/flintevents/flint/broker/internal/wire"
)

// errorBodyLimit is how much of a failed response is read and kept for the dead-letter
// sink (768 bytes encode to 1024 base64 characters).
const errorBodyLimit = 768

// outcome is the result of one HTTP delivery.
type outcome struct {
	// code is the response status; 0 when there was no response, http.StatusBadGateway
	// when a 2xx response carried something other than a CloudEvent.
	code int
	// body is the start of the response body of a failed delivery.
	body []byte
	// err describes a failure.
	err error
	// reply is the CloudEvent a subscriber answered with, if any.
	reply *cloudevents.Event
	// retryAfter is the wait a 429 or 503 response asked for.
	retryAfter time.Duration
}

func (o outcome) ok() bool { return o.err == nil }

// sender posts CloudEvents in binary mode.
type sender struct {
	client       *http.Client
	maxReplySize int64
	bufs         sync.Pool
}

// newTransport is an HTTP transport sized for many concurrent deliveries to few hosts.
func newTransport(maxIdlePerHost int) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   maxIdlePerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
}

func newSender(rt http.RoundTripper, maxReplySize int64) *sender {
	return &sender{
		client: &http.Client{
			Transport: rt,
			// A redirect is a failed delivery (3xx, not retried), never followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		maxReplySize: maxReplySize,
		bufs:         sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
}

// send posts ev to target within timeout, in structured mode if asked, else binary mode;
// preferReply asks for a reply event.
func (s *sender) send(ctx context.Context, target *url.URL, ev *cloudevents.Event, timeout time.Duration, structured, preferReply bool) outcome {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var req *http.Request
	var err error
	if structured {
		req, err = newStructuredRequest(ctx, target, ev)
	} else {
		req, err = newRequest(ctx, target, ev)
	}
	if err != nil {
		return outcome{err: err}
	}
	if preferReply {
		req.Header["Prefer"] = []string{"reply"}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return outcome{err: fmt.Errorf("posting to %s: %w", target.Redacted(), err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		out := outcome{code: resp.StatusCode, body: body, err: fmt.Errorf("posting to %s: status %d", target.Redacted(), resp.StatusCode)}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			out.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		return out
	}
	noReply := resp.ContentLength == 0 && resp.Header.Get("Ce-Specversion") == ""
	if noReply || resp.StatusCode == http.StatusAccepted || !preferReply {
		// A 202 body is never a reply.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return outcome{code: resp.StatusCode}
	}
	return s.readReply(ctx, resp)
}

// readReply turns a 2xx response into success, success with a reply event, or a 502
// failure when the body is neither empty nor a CloudEvent.
func (s *sender) readReply(ctx context.Context, resp *http.Response) outcome {
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer s.bufs.Put(buf)
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, s.maxReplySize+1))
	if err != nil {
		return outcome{code: http.StatusBadGateway, err: fmt.Errorf("reading reply: %w", err)}
	}
	if n > s.maxReplySize {
		return outcome{code: http.StatusBadGateway, err: fmt.Errorf("reading reply: larger than %d bytes", s.maxReplySize)}
	}
	msg := cehttp.NewMessage(resp.Header, io.NopCloser(bytes.NewReader(buf.Bytes())))
	if msg.ReadEncoding() == binding.EncodingUnknown {
		if n == 0 {
			return outcome{code: resp.StatusCode}
		}
		return outcome{code: http.StatusBadGateway, body: head(buf.Bytes()), err: errors.New("reply body is not a CloudEvent")}
	}
	reply, err := binding.ToEvent(ctx, msg)
	if err == nil {
		err = reply.Validate()
	}
	if err != nil {
		return outcome{code: http.StatusBadGateway, body: head(buf.Bytes()), err: fmt.Errorf("decoding reply event: %w", err)}
	}
	return outcome{code: resp.StatusCode, reply: reply}
}

func head(b []byte) []byte {
	return bytes.Clone(b[:min(len(b), errorBodyLimit)])
}

// newRequest writes ev as a binary-mode CloudEvents HTTP request. target is shared and
// only read.
func newRequest(ctx context.Context, target *url.URL, ev *cloudevents.Event) (*http.Request, error) {
	data := ev.Data()
	exts := wire.Extensions(ev)
	h := make(http.Header, 8+len(exts))
	vals := make([]string, 0, 8+len(exts)) // one backing array for every header value
	set := func(key, value string) {
		vals = append(vals, value)
		h[key] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	set("Ce-Specversion", ev.SpecVersion())
	set("Ce-Id", ev.ID())
	set("Ce-Source", ev.Source())
	set("Ce-Type", ev.Type())
	if v := ev.Subject(); v != "" {
		set("Ce-Subject", v)
	}
	if t := ev.Time(); !t.IsZero() {
		set("Ce-Time", t.UTC().Format(time.RFC3339Nano))
	}
	if v := ev.DataSchema(); v != "" {
		set("Ce-Dataschema", v)
	}
	if v := ev.DataContentType(); v != "" {
		set("Content-Type", v)
	}
	for name, v := range exts {
		s, err := types.Format(v)
		if err != nil {
			return nil, fmt.Errorf("formatting extension %q: %w", name, err)
		}
		set(textproto.CanonicalMIMEHeaderKey("ce-"+name), s)
	}
	req := &http.Request{
		Method:        http.MethodPost,
		URL:           target,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          http.NoBody,
		ContentLength: int64(len(data)),
		Host:          target.Host,
	}
	if len(data) > 0 {
		req.Body = io.NopCloser(bytes.NewReader(data))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	return req.WithContext(ctx), nil
}

// newStructuredRequest writes ev as a structured-mode (JSON) CloudEvents HTTP request.
func newStructuredRequest(ctx context.Context, target *url.URL, ev *cloudevents.Event) (*http.Request, error) {
	body, err := ev.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding structured event: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", cloudevents.ApplicationCloudEventsJSON)
	return req, nil
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date; 0 if absent or invalid.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(secs)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// reasonLimit bounds the part of a failed response's body that describe quotes.
const reasonLimit = 512

// describe is the text of a failure for logs and dead letters: the error, and the
// first line of the response body when the subscriber answered with a text reason,
// as the sensor function does for an event it can never process.
func (o outcome) describe() string {
	if o.err == nil {
		return ""
	}
	msg := strings.TrimSpace(o.err.Error())
	if reason := o.reason(); reason != "" && !strings.Contains(msg, reason) {
		msg += ": " + reason
	}
	return msg
}

// reason is the first line of the body of a failed response, when it is text.
func (o outcome) reason() string {
	line, _, _ := strings.Cut(string(o.body[:min(len(o.body), reasonLimit)]), "\n")
	line = strings.TrimSpace(line)
	if !utf8.ValidString(line) || strings.ContainsFunc(line, unicode.IsControl) {
		return ""
	}
	return line
}
