// Package redisstream is the `redisStream` event source type: each named
// entry reads its Redis streams through a consumer group, emits every entry
// as an event and acknowledges it (XACK) once the broker stored it.
//
// Options are Argo's: hostAddress, password (a secret), username, db, tls,
// streams, consumerGroup (default `argo-events-cg`), maxMsgCountPerRead
// (default 10, per stream and read), metadata and filter. The consumer is
// named `argo-events-worker`, as Argo names it, so a source taking over from
// Argo Events also takes over its pending entries.
//
// Delivery: on each connect the source first reads its consumer's pending
// entries (delivered before, never acknowledged) from the start, then new
// entries (`>`), blocking 2 s per read. An entry is acknowledged only after
// its event was stored; one whose event cannot be stored stays pending and
// is read again, so every entry arrives at least once, and its event id,
// `<stream>/<entry id>`, lets the broker drop the copies. An entry the
// filter drops is acknowledged without an event, as in Argo.
//
// Deviation from Argo: a consumer group that does not exist yet is created
// at the start of the stream (XGROUP CREATE <stream> <group> 0 MKSTREAM), so
// entries written before the source first ran are read, and a stream that
// does not exist yet is created empty. Argo creates the group at `$` without
// MKSTREAM: it skips what the stream already holds and fails on a missing
// stream. A group that exists is used as it is.
package redisstream

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

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

// Type is the EventSource type key, and the CloudEvent type, of redis stream events.
const Type = "redisStream"

// Argo's defaults.
const (
	// DefaultConsumerGroup is the group of an entry without consumerGroup.
	DefaultConsumerGroup = "argo-events-cg"
	// Consumer is the consumer name within the group.
	Consumer = "argo-events-worker"
	// DefaultMaxMsgCountPerRead is how many entries one read takes per stream
	// when maxMsgCountPerRead is 0.
	DefaultMaxMsgCountPerRead = 10
	// Block is how long one read waits for new entries.
	Block = 2 * time.Second
)

func init() {
	sources.Register(Type, sources.Pull, func(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
		return New(es, deps)
	}, sources.KeepsBacklog())
}

// New returns the source of es's redisStream entries, one pull runner each.
// It checks the entries (filter expressions, secrets that need a resolver)
// but dials nothing; problems are at `spec.redisStream[<name>].<field>`.
func New(es *v1alpha1.EventSource, deps sources.Deps) (*pull.Source, error) {
	return pull.Build(es, Type, deps, func(name string, log *zap.Logger) (pull.Entry, *apis.FieldError) {
		cfg, fe := newConfig(es.Spec.RedisStream[name], deps.Secrets)
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
	streams  []string
	group    string
	count    int64
	metadata map[string]string
	filter   *filter.Filter
	filtered *metrics.SourceEvent
	log      *zap.Logger
}

func newConfig(r v1alpha1.RedisStreamEventSource, secrets secret.Resolver) (*config, *apis.FieldError) {
	c := &config{
		conn:     redisconn.Spec{HostAddress: r.HostAddress, Password: r.Password, Username: r.Username, DB: r.DB, TLS: r.TLS},
		secrets:  secrets,
		streams:  r.Streams,
		group:    r.ConsumerGroup,
		count:    int64(r.MaxMsgCountPerRead),
		metadata: r.Metadata,
	}
	if c.group == "" {
		c.group = DefaultConsumerGroup
	}
	if c.count == 0 {
		c.count = DefaultMaxMsgCountPerRead
	}
	errs := c.conn.Check(secrets)
	if strings.TrimSpace(r.HostAddress) == "" {
		errs = errs.Also(apis.ErrMissingField("hostAddress"))
	}
	if len(r.Streams) == 0 {
		errs = errs.Also(apis.ErrMissingField("streams"))
	}
	seen := map[string]bool{}
	for i, s := range r.Streams {
		switch {
		case s == "":
			errs = errs.Also(apis.ErrInvalidArrayValue(s, "streams", i))
		case seen[s]:
			errs = errs.Also(apis.ErrGeneric(fmt.Sprintf("stream %q is listed twice", s), fmt.Sprintf("streams[%d]", i)))
		}
		seen[s] = true
	}
	if r.MaxMsgCountPerRead < 0 {
		errs = errs.Also(apis.ErrInvalidValue(r.MaxMsgCountPerRead, "maxMsgCountPerRead", "must not be negative"))
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

// eventData is Argo's redisStream event data.
type eventData struct {
	Stream   string            `json:"stream"`
	ID       string            `json:"message_id"`
	Values   map[string]any    `json:"values"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// data is the event data of one stream entry.
func (c *config) data(stream, id string, values map[string]any) ([]byte, error) {
	return json.Marshal(eventData{Stream: stream, ID: id, Values: values, Metadata: c.metadata})
}

// entryTime is the time an entry id carries (its milliseconds part); zero
// when it carries none.
func entryTime(id string) time.Time {
	ms, _, ok := strings.Cut(id, "-")
	if !ok {
		return time.Time{}
	}
	var n int64
	if _, err := fmt.Sscan(ms, &n); err != nil || n <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}
