package nsq

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// lookupdAddress checks `hostAddress`, nsqlookupd's HTTP address as
// `host:port` or an http(s) URL, and returns it as go-nsq takes it and the
// URL of its /ping.
func lookupdAddress(s string) (addr, ping string, err error) {
	if !strings.Contains(s, "/") {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return "", "", errors.New("want nsqlookupd's HTTP address, host:port or an http(s) URL")
		}
		return s, "http://" + s + "/ping", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", errors.New("want nsqlookupd's HTTP address, host:port or an http(s) URL")
	}
	p := *u
	p.Path = strings.TrimSuffix(u.Path, "/") + "/ping"
	p.RawQuery = ""
	return s, p.String(), nil
}
