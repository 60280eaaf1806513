package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/tidwall/gjson"
)

// eventData builds the webhook event data {"header", "body", "metadata"},
// reading the (receiver-limited) request body straight into it; on failure it
// returns the HTTP status to answer.
func eventData(req *http.Request, header, metadata []byte) ([]byte, int, error) {
	size := max(req.ContentLength, 0)
	data := make([]byte, 0, int(size)+len(header)+len(metadata)+64)
	data = append(data, `{"header":`...)
	data = append(data, header...)
	data = append(data, `,"body":`...)
	bodyAt := len(data)
	if req.Method == http.MethodGet {
		q, err := json.Marshal(req.URL.Query())
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("invalid query: %w", err)
		}
		data = append(data, q...)
	} else {
		var err error
		data, err = readAppend(data, req.Body)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, http.StatusRequestEntityTooLarge, errors.New("request too large")
			}
			return nil, http.StatusBadRequest, fmt.Errorf("reading body: %w", err)
		}
		raw := data[bodyAt:]
		switch {
		case len(raw) == 0:
			data = append(data, "null"...)
		case gjson.ValidBytes(raw):
			data = data[:bodyAt+compactInPlace(raw)]
		default:
			enc, err := nonJSONBody(req, raw)
			if err != nil {
				return nil, http.StatusBadRequest, err
			}
			data = append(data[:bodyAt], enc...)
		}
	}
	if metadata != nil {
		data = append(data, `,"metadata":`...)
		data = append(data, metadata...)
	}
	return append(data, '}'), 0, nil
}

// nonJSONBody encodes a body that is not JSON: the parsed form as a map of
// lists for a form content type, else the text as a JSON string.
func nonJSONBody(req *http.Request, raw []byte) ([]byte, error) {
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, fmt.Errorf("invalid form body: %w", err)
		}
		return json.Marshal(form)
	}
	return json.Marshal(string(raw))
}

// readAppend appends everything r yields to dst.
func readAppend(dst []byte, r io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// compactInPlace removes the insignificant whitespace of the valid JSON in b
// and returns the new length. Strings are skipped whole, quote to quote.
func compactInPlace(b []byte) int {
	w, i := 0, 0
	for i < len(b) {
		switch c := b[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
		case '"':
			end := stringEnd(b, i+1)
			if w != i {
				copy(b[w:], b[i:end])
			}
			w += end - i
			i = end
		default:
			b[w] = c
			w++
			i++
		}
	}
	return w
}

// stringEnd returns the index just past the closing quote of the JSON string
// whose contents start at i.
func stringEnd(b []byte, i int) int {
	for {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return len(b)
		}
		j := i + q
		k := j
		for k > i && b[k-1] == '\\' {
			k--
		}
		if (j-k)%2 == 0 {
			return j + 1
		}
		i = j + 1
	}
}
