package bus

import "net/url"

// Redacted is the NATS server URL u with its password, if any, replaced by
// "xxxxx", for log lines and errors; u as it is when it does not parse.
func Redacted(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	return parsed.Redacted()
}
