package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/flintevents/flint/pkg/jsonlimit"
)

// eventData builds the webhook event data {"header", "body", "metadata"},
// reading the (receiver-limited) request body straight into it; on failure it
// returns the HTTP status to answer. A JSON body is checked and compacted in
// one linear pass; since the event data holds it one level deeper, a body
// that would make the data nested deeper than maxDepth levels (the body
// deeper than maxDepth-1) is refused with 400, before anything decodes it.
func eventData(req *http.Request, header, metadata []byte, maxDepth int) ([]byte, int, error) {
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
		if len(raw) == 0 {
			data = append(data, "null"...)
		} else if compact, err := jsonlimit.Compact(raw, maxDepth-1); err == nil {
			data = data[:bodyAt+len(compact)]
		} else if errors.Is(err, jsonlimit.ErrTooDeep) {
			return nil, http.StatusBadRequest, fmt.Errorf("invalid body: %w; the event data holds the body one level deeper, and sensors take data nested at most %d levels", err, maxDepth)
		} else {
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
