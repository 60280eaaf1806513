package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flintevents/flint/pkg/jsonlimit"
)

// FuzzEventData feeds arbitrary bodies to the webhook body decoder. It never
// panics; a refusal is a 4xx; accepted data is one JSON object whose body is
// the compacted JSON body, the form fields, or the text as a JSON string.
func FuzzEventData(f *testing.F) {
	for _, seed := range []struct {
		body, contentType string
	}{
		{`{"a": 1}`, "application/json"},
		{" [ 1 , \"x \\\" y\" ]\n", "application/json"},
		{`a=1&b=2&a=3`, "application/x-www-form-urlencoded"},
		{`a=%zz`, "application/x-www-form-urlencoded"},
		{`plain text`, "text/plain"},
		{"", ""},
		{strings.Repeat("[", 1001) + strings.Repeat("]", 1001), "application/json"},
		{strings.Repeat(`{"a":`, 1000) + "1" + strings.Repeat("}", 1000), "application/json"},
		{strings.Repeat(`{"a":`, 999) + "1" + strings.Repeat("}", 999), "application/json"},
		{strings.Repeat("[", 4096), "application/json"},
		{"\xff\xfe", "application/octet-stream"},
	} {
		f.Add([]byte(seed.body), seed.contentType)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		req := httptest.NewRequest(http.MethodPost, "/example", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		data, status, err := eventData(req, []byte(`{"Content-Type":["x"]}`), []byte(`{"m":"v"}`), jsonlimit.DefaultMaxDepth)
		if err != nil {
			if status < 400 || status > 499 {
				t.Fatalf("refused with status %d: %v", status, err)
			}
			// The event data holds the body one level deeper.
			if errors.Is(err, jsonlimit.ErrTooDeep) != errors.Is(jsonlimit.Check(body, jsonlimit.DefaultMaxDepth-1), jsonlimit.ErrTooDeep) {
				t.Fatalf("refusal %v does not match the body's depth", err)
			}
			return
		}
		if err := jsonlimit.Check(data, jsonlimit.DefaultMaxDepth); err != nil {
			t.Fatalf("accepted event data a sensor refuses: %v", err)
		}
		var got struct {
			Header   map[string][]string `json:"header"`
			Body     json.RawMessage     `json:"body"`
			Metadata map[string]string   `json:"metadata"`
		}
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("event data %q is not JSON: %v", data, err)
		}
		if got.Metadata["m"] != "v" || got.Header["Content-Type"][0] != "x" {
			t.Fatalf("header or metadata lost: %q", data)
		}
		switch {
		case len(body) == 0:
			if string(got.Body) != "null" {
				t.Fatalf("empty body = %s, want null", got.Body)
			}
		case json.Valid(body):
			var want bytes.Buffer
			_ = json.Compact(&want, body)
			if !bytes.Equal(got.Body, want.Bytes()) {
				t.Fatalf("body = %s, want %s", got.Body, want.Bytes())
			}
		case isForm(contentType):
		case utf8.Valid(body):
			var s string
			if err := json.Unmarshal(got.Body, &s); err != nil || s != string(body) {
				t.Fatalf("text body = %s, want %q as a string", got.Body, body)
			}
		}
	})
}

func isForm(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/x-www-form-urlencoded"
}
