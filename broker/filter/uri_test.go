package filter

import (
	"net/url"
	"testing"
)

// uriSamples are URI references of every shape url.URL.String distinguishes.
func uriSamples() []string {
	return []string{
		"", "webhook", "/abs/path", "rel/path", "https://github.com/flintevents/flint",
		"https://github.com", "https://github.com/", "http://h:8080/p?q=1#frag", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
		"mailto:dev@flint.dev", "//host/only", "a:b", "./a:b/c", "http://[::1]:80/x", "http://user:pw@host/p",
		"https://host/a%20b", "https://host/a b", "https://host/p?", "https://host/p#a%2Fb", "https://host/p#a b",
		"https://h/%2F", "http://%41/", "http://host/p*", "*", "file:///tmp/x", "https://ex.com/ünicode",
		"http://a_b~c.d-e/", "sqs://us-east-1/queue", "?q", "#f", "scheme:", "https://host:/p",
	}
}

func TestAppendURIMatchesString(t *testing.T) {
	t.Parallel()
	for _, s := range uriSamples() {
		t.Run(s, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(s)
			if err != nil {
				t.Skipf("not a URL: %v", err)
			}
			if got, want := string(appendURI([]byte("pre:"), u)), "pre:"+u.String(); got != want {
				t.Errorf("appendURI = %q, want %q", got, want)
			}
		})
	}
}

func TestAppendURIMatchesStringForBuiltURLs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		u    url.URL
	}{
		{name: "omit host with scheme", u: url.URL{Scheme: "s", OmitHost: true, Path: "/p"}},
		{name: "scheme and relative path", u: url.URL{Scheme: "s", Path: "p"}},
		{name: "host and relative path", u: url.URL{Host: "h", Path: "p"}},
		{name: "colon in first segment", u: url.URL{Path: "a:b/c"}},
		{name: "force query", u: url.URL{Path: "p", ForceQuery: true}},
		{name: "raw path kept", u: url.URL{Path: "/a/b", RawPath: "/a%2Fb"}},
		{name: "invalid raw path", u: url.URL{Path: "/a b", RawPath: "/x"}},
		{name: "host needing escape", u: url.URL{Scheme: "http", Host: "a b"}},
		{name: "opaque", u: url.URL{Scheme: "urn", Opaque: "a:b", RawQuery: "q"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, want := string(appendURI(nil, &tc.u)), tc.u.String(); got != want {
				t.Errorf("appendURI = %q, want %q", got, want)
			}
		})
	}
}

func FuzzAppendURI(f *testing.F) {
	for _, s := range uriSamples() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		if got, want := string(appendURI(nil, u)), u.String(); got != want {
			t.Errorf("appendURI(%q) = %q, want %q", s, got, want)
		}
	})
}
