package webhook

import (
	"net/http"
	"slices"

	"github.com/flintevents/flint/pkg/jsontext"
)

// appendHeaderJSON appends h as JSON, byte for byte what encoding/json writes for
// it (names sorted, HTML characters escaped, invalid UTF-8 as U+FFFD), without
// its reflection: the `header` of every webhook event.
func appendHeaderJSON(dst []byte, h http.Header) []byte {
	if h == nil {
		return append(dst, "null"...)
	}
	var stack [32]string
	names := stack[:0]
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	dst = append(dst, '{')
	for i, name := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsontext.AppendString(dst, name)
		dst = append(dst, ':')
		values := h[name]
		if values == nil {
			dst = append(dst, "null"...)
			continue
		}
		dst = append(dst, '[')
		for j, v := range values {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = jsontext.AppendString(dst, v)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}
