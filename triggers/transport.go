package triggers

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// maxIdleConnsPerHost keeps enough warm connections for a burst of
// concurrent firings against one target.
const maxIdleConnsPerHost = 64

// NewTransport is the HTTP transport trigger types use when the host gives
// none (Deps.Transport) or their spec needs its own TLS settings: keep-alive
// connections sized for bursts of concurrent firings against one host,
// bounded dial and handshake times. tlsCfg may be nil.
func NewTransport(tlsCfg *tls.Config) *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig:       tlsCfg,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * maxIdleConnsPerHost,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
