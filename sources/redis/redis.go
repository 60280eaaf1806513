// Package redis is the `redis` event source type: each named entry
// subscribes to Redis pub/sub channels and emits every message published on
// them as an event.
//
// Options are Argo's: hostAddress, password (a secret), username, db, tls,
// channels, jsonBody, metadata and filter; `namespace` is only validated, as
// in Argo. Channels are subscribed by exact name (SUBSCRIBE, no patterns),
// so the event data's `pattern` is always "", as in Argo.
//
// Delivery: Redis pub/sub keeps nothing and has no acknowledgement, so a
// message reaches the source at most once, as in Argo. While the source
// runs, an event the broker refuses is emitted again until it is stored (or
// the source stops), never dropped; what is published while the source is
// not subscribed (stopped, killed, or reconnecting after the server went
// away) is lost, and messages received but not yet stored when the source
// is killed are lost too. Each event gets a fresh id, since a message has no
// natural one; the client reconnects and subscribes again by itself after
// the server restarts.
package redis

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn/redisconn"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/filter"
	"github.com/flintevents/flint/sources/pull"
)

// Type is the EventSource type key, and the CloudEvent type, of redis events.
const Type = "redis"

func init() {
	sources.Register(Type, sources.Pull, func(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
		return New(es, deps)
	})
}

// New returns the source of es's redis entries, one pull runner each. It
// checks the entries (channels, filter expressions, secrets that need a
// resolver) but dials nothing; problems are at `spec.redis[<name>].<field>`.
func New(es *v1alpha1.EventSource, deps sources.Deps) (*pull.Source, error) {
	return pull.Build(es, Type, deps, func(name string, log *zap.Logger) (pull.Entry, *apis.FieldError) {
		cfg, fe := newConfig(es.Spec.Redis[name], deps.Secrets)
		if fe != nil {
			return pull.Entry{}, fe
		}
		cfg.filtered = deps.Metrics.Event(es.Name, name)
		cfg.log = log
		return pull.Entry{Dial: cfg.dial}, nil
	})
}

// config is one entry, checked: what each dial needs.
type config struct {
	conn     redisconn.Spec
	secrets  secret.Resolver
	channels []string
	jsonBody bool
	metadata map[string]string
	filter   *filter.Filter
	filtered *metrics.SourceEvent
	log      *zap.Logger
}

func newConfig(r v1alpha1.RedisEventSource, secrets secret.Resolver) (*config, *apis.FieldError) {
	c := &config{
		conn:     redisconn.Spec{HostAddress: r.HostAddress, Password: r.Password, Username: r.Username, DB: r.DB, TLS: r.TLS},
		secrets:  secrets,
		channels: r.Channels,
		jsonBody: r.JSONBody,
		metadata: r.Metadata,
	}
	errs := c.conn.Check(secrets)
	if strings.TrimSpace(r.HostAddress) == "" {
		errs = errs.Also(apis.ErrMissingField("hostAddress"))
	}
	if len(r.Channels) == 0 {
		errs = errs.Also(apis.ErrMissingField("channels"))
	}
	seen := map[string]bool{}
	for i, ch := range r.Channels {
		switch {
		case ch == "":
			errs = errs.Also(apis.ErrInvalidArrayValue(ch, "channels", i))
		case seen[ch]:
			errs = errs.Also(apis.ErrGeneric(fmt.Sprintf("channel %q is listed twice", ch), fmt.Sprintf("channels[%d]", i)))
		}
		seen[ch] = true
	}
	if r.Filter != nil && strings.TrimSpace(r.Filter.Expression) != "" {
		f, err := filter.Compile(r.Filter.Expression)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(r.Filter.Expression, "filter.expression", err.Error()))
		}
		c.filter = f
	}
	return c, errs
}

// eventData is Argo's redis event data.
type eventData struct {
	Channel  string            `json:"channel"`
	Pattern  string            `json:"pattern"`
	Body     any               `json:"body"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// errNotJSON is the error of a payload that jsonBody wants as JSON.
var errNotJSON = errors.New("jsonBody is set and the payload is not JSON")

// data is the event data of one message: the payload as a JSON string, or
// as JSON itself with jsonBody.
func (c *config) data(channel, pattern, payload string) ([]byte, error) {
	d := eventData{Channel: channel, Pattern: pattern, Body: payload, Metadata: c.metadata}
	if c.jsonBody {
		if !json.Valid([]byte(payload)) {
			return nil, errNotJSON
		}
		d.Body = json.RawMessage(payload)
	}
	return json.Marshal(d)
}
