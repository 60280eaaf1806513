package sensor

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A body over the limit is refused with 413 before the trigger sees it, whether its
// length is announced or it arrives chunked.
func TestServeHTTPBodyLimit(t *testing.T) {
	t.Parallel()
	fn, rec := newFunction(t, "single")
	limited := httptest.NewServer(fn.Limited(4096))
	t.Cleanup(limited.Close)
	dflt := httptest.NewServer(fn)
	t.Cleanup(dflt.Close)
	event := func(size int) string {
		return `{"header":{},"body":{"message":"hello","pad":"` + strings.Repeat("x", size) + `"}}`
	}
	tests := []struct {
		name    string
		url     string
		body    string
		chunked bool
		want    int
	}{
		{name: "within the limit", url: limited.URL, body: event(100), want: http.StatusAccepted},
		{name: "over the limit", url: limited.URL, body: event(5000), want: http.StatusRequestEntityTooLarge},
		{name: "over the limit chunked", url: limited.URL, body: event(5000), chunked: true, want: http.StatusRequestEntityTooLarge},
		{name: "over the default limit", url: dflt.URL, body: event(int(DefaultMaxBodySize)), want: http.StatusRequestEntityTooLarge},
		{name: "over the default limit chunked", url: dflt.URL, body: event(int(DefaultMaxBodySize)), chunked: true, want: http.StatusRequestEntityTooLarge},
		{name: "a broker-sized event", url: dflt.URL, body: event(1 << 20), want: http.StatusAccepted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { // sequential: the trigger count is checked after
			req, err := http.NewRequest(http.MethodPost, tc.url, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = http.Header{
				"Ce-Specversion": {"1.0"}, "Ce-Id": {tc.name}, "Ce-Source": {"webhook"},
				"Ce-Type": {"webhook"}, "Ce-Subject": {"example"}, "Content-Type": {"application/json"},
			}
			if tc.chunked {
				req.ContentLength = -1
				req.Body = io.NopCloser(io.MultiReader(strings.NewReader(tc.body)))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, got, tc.want)
			}
			if tc.want == http.StatusRequestEntityTooLarge && !strings.Contains(string(got), "too large") {
				t.Errorf("body %q does not say the event is too large", got)
			}
		})
	}
	if n := len(rec.got()); n != 2 {
		t.Errorf("trigger fired %d times, want 2 (only the events within the limit)", n)
	}
}

// The edge answers each failure with the status that tells the broker whether to
// deliver the event again: 422 with the reason for an event no redelivery can help,
// 500 for a trigger that failed.
func TestServeHTTPFailureStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		target   int
		want     int
		wantBody string
	}{
		{name: "fired", body: `{"route":"a"}`, target: http.StatusOK, want: http.StatusAccepted},
		{name: "target 500", body: `{"route":"a"}`, target: http.StatusInternalServerError, want: http.StatusInternalServerError},
		{name: "parameter the event lacks", body: `{"other":"a"}`, target: http.StatusOK, want: http.StatusUnprocessableEntity,
			wantBody: `parameters[0]: unable to resolve the parameter of dependency "dep": dataKey body.route: path does not exist`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fn, rec := newFunction(t, "required")
			rec.set(tc.target)
			srv := httptest.NewServer(fn)
			t.Cleanup(srv.Close)
			req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"header":{},"body":`+tc.body+`}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = http.Header{
				"Ce-Specversion": {"1.0"}, "Ce-Id": {"1"}, "Ce-Source": {"webhook"},
				"Ce-Type": {"webhook"}, "Ce-Subject": {"example"}, "Content-Type": {"application/json"},
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, got, tc.want)
			}
			if !strings.Contains(string(got), tc.wantBody) {
				t.Errorf("body = %q, want the reason %q", got, tc.wantBody)
			}
		})
	}
}
