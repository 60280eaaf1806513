package filter

import (
	"net/url"
	"strings"
)

// appendURI appends to dst the text url.URL.String gives for u. The shapes
// CloudEvents sources take (relative references, scheme://host/path, URNs)
// are rendered in place; a URL with user info or a host that would need
// escaping falls back to String.
func appendURI(dst []byte, u *url.URL) []byte {
	if u.User != nil || !plainHost(u.Host) {
		return append(dst, u.String()...)
	}
	start := len(dst)
	if u.Scheme != "" {
		dst = append(dst, u.Scheme...)
		dst = append(dst, ':')
	}
	if u.Opaque != "" {
		dst = append(dst, u.Opaque...)
	} else {
		if (u.Scheme != "" || u.Host != "") && (u.Host != "" || !u.OmitHost) {
			if u.Host != "" || u.Path != "" {
				dst = append(dst, "//"...)
			}
			dst = append(dst, u.Host...)
		}
		path := u.EscapedPath()
		if path != "" && path[0] != '/' && u.Host != "" {
			dst = append(dst, '/')
		}
		if len(dst) == start {
			// A first segment with a colon would read as a scheme.
			if segment, _, _ := strings.Cut(path, "/"); strings.Contains(segment, ":") {
				dst = append(dst, "./"...)
			}
		}
		dst = append(dst, path...)
	}
	if u.ForceQuery || u.RawQuery != "" {
		dst = append(dst, '?')
		dst = append(dst, u.RawQuery...)
	}
	if u.Fragment != "" {
		dst = append(dst, '#')
		dst = append(dst, u.EscapedFragment()...)
	}
	return dst
}

// plainHost reports whether host holds only bytes url.URL.String writes
// unescaped: letters, digits and -._~:[] .
func plainHost(host string) bool {
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == ':', c == '[', c == ']':
		default:
			return false
		}
	}
	return true
}
