// Package emitter is the `emitter` event source type: each entry subscribes
// to one channel of an emitter broker (emitter.io, an MQTT broker whose
// topics start with a channel key, `<channelKey>/<channelName>/`) and emits
// each message as an event, through sources/pull.
//
// Argo's options are honoured: broker, channelKey, channelName, username and
// password (secrets), tls, connectionBackoff, jsonBody, metadata and
// filter. The event data is Argo's: {"topic", "body", "metadata"}, where
// topic is the channel the broker sent the message on (without the key, e.g.
// "chat/") and body is the payload, base64 in JSON, or the payload itself
// with jsonBody.
//
// Delivery is at most once, as in Argo: emitter sends every message to a
// subscriber at QoS 0 and keeps no session, so a message the broker sent
// while no source was connected, or one received but not yet emitted when
// the source stops, is lost, and there is nothing to acknowledge at the
// origin. What flint adds over Argo: a message whose event the broker
// refused is emitted again, with backoff, until it is stored or the source
// stops (Argo logs the failure and drops the message), and a lost connection
// is dialled again and the channel subscribed again, waiting as
// connectionBackoff says. Emitter gives a subscriber no message id, so the
// event id is minted by the host; since nothing is redelivered, nothing needs
// deduplicating.
//
// Deviations from Argo: with tls and a broker address without a scheme the
// connection uses TLS (Argo's client then connects in plain TCP); a message
// whose body is not JSON under jsonBody is emitted with its body as a JSON
// string and a warning (Argo drops it); connectionBackoff also governs
// reconnects, and its steps are failures in a row after which the source
// stops (Argo applies it to the first connection only and then reconnects
// forever), while without it the source reconnects forever; a channel key
// or name emitter would refuse, or a broker address paho cannot dial, is a
// problem at start naming the field (Argo starts and fails to subscribe).
package emitter

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/filter"
	"github.com/flintevents/flint/sources/pull"
)

// Type is the registered emitter source type.
const Type = v1alpha1.TypeEmitter

func init() { sources.Register(Type, sources.Pull, New) }

// secretTimeout bounds reading an entry's secrets while the source is built.
const secretTimeout = 30 * time.Second

// New builds the emitter entries of es: it checks each entry, reads its
// secrets and TLS settings, and returns a pull source that connects nothing
// until Run. Problems are *apis.FieldError at `spec.emitter[<name>].<field>`.
func New(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
	ctx, cancel := context.WithTimeout(context.Background(), secretTimeout)
	defer cancel()
	src, err := pull.Build(es, Type, deps, func(name string, log *zap.Logger) (pull.Entry, *apis.FieldError) {
		spec := es.Spec.Emitter[name]
		cfg, fe := newConfig(ctx, spec, deps)
		if fe != nil {
			return pull.Entry{}, fe
		}
		cfg.log = log
		cfg.metrics = deps.Metrics.Event(es.Name, name)
		return pull.Entry{
			Dial: cfg.dial,
			Options: pull.Options{
				// The origin cannot redeliver: a refused event is emitted
				// again until stored or the source stops.
				Attempts:  math.MaxInt,
				Reconnect: pull.Reconnect(spec.ConnectionBackoff),
			},
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return src, nil
}

// newConfig checks one entry and reads its secrets; problems are relative
// to the entry.
func newConfig(ctx context.Context, spec v1alpha1.EmitterEventSource, deps sources.Deps) (*config, *apis.FieldError) {
	cfg := &config{jsonBody: spec.JSONBody, metadata: spec.Metadata}
	var errs *apis.FieldError
	tlsConfig, err := conn.TLS(ctx, spec.TLS, deps.Secrets)
	errs = errs.Also(err)
	cfg.tls = tlsConfig
	broker, berr := brokerURL(spec.Broker, spec.TLS != nil)
	errs = errs.Also(berr)
	cfg.broker = broker
	topic, terr := topic(spec.ChannelKey, spec.ChannelName)
	errs = errs.Also(terr)
	cfg.topic = topic
	auth, aerr := conn.ResolveBasicAuth(ctx, &v1alpha1.BasicAuth{Username: spec.Username, Password: spec.Password}, deps.Secrets)
	errs = errs.Also(aerr)
	if auth != nil {
		cfg.auth = *auth
	}
	if spec.Filter != nil && strings.TrimSpace(spec.Filter.Expression) != "" {
		f, ferr := filter.Compile(spec.Filter.Expression)
		if ferr != nil {
			errs = errs.Also(apis.ErrInvalidValue(spec.Filter.Expression, "filter.expression", ferr.Error()))
		}
		cfg.filter = f
	}
	return cfg, errs
}

// brokerURL reads Argo's broker address, `host:port` or a URL whose scheme
// paho dials (tcp, mqtt, ssl, tls, mqtts, tcps, ws, wss); a bare address is
// tcp, or ssl when the entry has tls.
func brokerURL(broker string, tls bool) (string, *apis.FieldError) {
	raw := strings.TrimSpace(broker)
	if !strings.Contains(raw, "://") {
		scheme := "tcp"
		if tls {
			scheme = "ssl"
		}
		raw = scheme + "://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", apis.ErrInvalidValue(broker, "broker", err.Error())
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "tcps", "ws", "wss":
	default:
		return "", apis.ErrInvalidValue(broker, "broker", fmt.Sprintf("scheme %q is none of tcp, mqtt, ssl, tls, mqtts, tcps, ws, wss", u.Scheme))
	}
	if u.Hostname() == "" || u.Port() == "" {
		return "", apis.ErrInvalidValue(broker, "broker", "want host:port, e.g. localhost:8080")
	}
	return u.String(), nil
}

// topic is the MQTT topic of a channel: `<key>/<channel>/`, as emitter's
// client writes it (slashes around the key and channel trimmed).
func topic(key, channel string) (string, *apis.FieldError) {
	key = strings.Trim(key, "/")
	channel = strings.Trim(channel, "/")
	var errs *apis.FieldError
	if key == "" || strings.ContainsAny(key, "/+#?") {
		errs = errs.Also(apis.ErrInvalidValue("<hidden>", "channelKey", "a channel key is one topic segment, without '/', '+', '#' or '?'"))
	}
	if channel == "" {
		errs = errs.Also(apis.ErrInvalidValue(channel, "channelName", "the channel name is empty"))
	} else {
		for _, seg := range strings.Split(channel, "/") {
			if seg == "" {
				errs = errs.Also(apis.ErrInvalidValue(channel, "channelName", "a channel has no empty segment ('//')"))
				break
			}
		}
	}
	return key + "/" + channel + "/", errs
}
