// Package nsq is the `nsq` event source type: every named entry of an
// EventSource's spec.nsq subscribes to an NSQ topic through a channel, finding
// the nsqd nodes that hold the topic through the nsqlookupd at `hostAddress`
// (an HTTP address, as in Argo Events), and emits one event per message.
//
// Each message's event data is Argo's: `body` (base64 of the bytes, or the
// JSON itself with `jsonBody`), `timestamp` (the publish time in nanoseconds
// since the epoch, a decimal string), `nsqdAddress` and `metadata`. The event
// id is the nsqd address, topic, channel and NSQ message id
// (`127.0.0.1:4150/orders/flint/0c4b8e2f1a2b3000`): nsqd keeps a message's id
// across requeues, timeouts and a restart of nsqd, so the broker drops a
// redelivered copy, while the same message read through two channels, or
// two topics' ids that happen to match, stay distinct events.
//
// Acknowledgements, through sources/pull: a message is finished (FIN) only
// after the broker stored its event, and requeued (REQ) when it was not; an
// emit that outlasts the message timeout keeps the message with TOUCH, so
// nsqd does not hand it to another consumer meanwhile. At most the runner's
// InFlight messages are outstanding (the consumer's max-in-flight). In drain
// mode the backlog is what every nsqd holding the topic keeps of the channel
// (waiting, in flight or deferred), from their /stats.
//
// Where flint differs from Argo Events (docs/compat.md):
//   - Argo's go-nsq consumer gives a message up after 5 attempts (FIN without
//     publishing it); flint never gives one up, it requeues until stored.
//   - A requeued message comes back after a short delay growing with its
//     attempts (1 s each, at most a minute) instead of go-nsq's 90 s each, and
//     the requeue puts the consumer in no backoff.
//   - nsqlookupd is polled every 5 s instead of go-nsq's 60 s, so a restarted
//     nsqd or a new topic is read sooner.
//   - A message whose body is not JSON under `jsonBody` is finished and logged
//     as an error (Argo requeues it until go-nsq gives it up).
//   - `connectionBackoff` paces reconnecting to nsqlookupd for as long as the
//     source runs, and with `steps` set the source gives up after that many
//     failures in a row (pull.Reconnect); without it, it never gives up.
//   - The CloudEvent time is the message's publish time, not the time it was
//     read.
package nsq

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/nsqio/go-nsq"
	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/filter"
	"github.com/flintevents/flint/sources/pull"
)

// Type is the EventSource type key, and the CloudEvent type, of nsq events.
const Type = v1alpha1.TypeNSQ

func init() {
	sources.Register(Type, sources.Pull, func(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
		return New(es, deps)
	}, sources.KeepsBacklog())
}

// Defaults of how an entry reads NSQ.
const (
	// DefaultLookupdPoll is how often nsqlookupd is asked which nsqd nodes
	// hold the topic.
	DefaultLookupdPoll = 5 * time.Second
	// DefaultMsgTimeout is how long nsqd waits for a message's FIN or REQ
	// before handing it to another consumer; a slow emit sends TOUCH every
	// third of it.
	DefaultMsgTimeout = time.Minute
	// DefaultPingTimeout bounds the check that nsqlookupd answers, which
	// every connection starts with.
	DefaultPingTimeout = 5 * time.Second
	// setupTimeout bounds reading an entry's TLS secrets in New.
	setupTimeout = 30 * time.Second
)

// settings are how an entry reads NSQ, beyond its spec.
type settings struct {
	lookupdPoll time.Duration
	msgTimeout  time.Duration
	inFlight    int
}

func defaultSettings() settings {
	return settings{lookupdPoll: DefaultLookupdPoll, msgTimeout: DefaultMsgTimeout, inFlight: pull.DefaultInFlight}
}

// New returns the source of es's nsq entries, one pull runner each. es is
// expected to be defaulted and validated (pkg/manifest); New resolves each
// entry's TLS secrets, compiles its filter and checks its address, topic and
// channel, reporting problems at `spec.nsq[<name>].<field>`. It connects to
// nothing.
func New(es *v1alpha1.EventSource, deps sources.Deps) (*pull.Source, error) {
	return newSource(es, deps, defaultSettings())
}

func newSource(es *v1alpha1.EventSource, deps sources.Deps, set settings) (*pull.Source, error) {
	return pull.Build(es, Type, deps, func(name string, log *zap.Logger) (pull.Entry, *apis.FieldError) {
		spec := es.Spec.NSQ[name]
		e, fe := newEntry(es, name, spec, deps, log, set)
		if fe != nil {
			return pull.Entry{}, fe
		}
		return pull.Entry{Dial: e.dial, Options: pull.Options{
			InFlight:  set.inFlight,
			Reconnect: pull.Reconnect(spec.ConnectionBackoff),
		}}, nil
	})
}

// entry is one nsq entry, ready to dial.
type entry struct {
	lookupd  string // nsqlookupd address as go-nsq takes it
	pingURL  string
	topic    string
	channel  string
	config   func() *nsq.Config
	data     dataEncoder
	filter   *filter.Filter
	metrics  *metrics.SourceEvent
	log      *zap.Logger
	settings settings
}

func newEntry(es *v1alpha1.EventSource, name string, spec v1alpha1.NSQEventSource, deps sources.Deps, log *zap.Logger, set settings) (*entry, *apis.FieldError) {
	e := &entry{topic: spec.Topic, channel: spec.Channel, log: log, settings: set}
	var errs *apis.FieldError
	addr, ping, err := lookupdAddress(spec.HostAddress)
	if err != nil {
		errs = errs.Also(apis.ErrInvalidValue(spec.HostAddress, "hostAddress", err.Error()))
	}
	e.lookupd, e.pingURL = addr, ping
	if !nsq.IsValidTopicName(spec.Topic) {
		errs = errs.Also(apis.ErrInvalidValue(spec.Topic, "topic", "an NSQ topic name is 1 to 64 characters of [.a-zA-Z0-9_-], optionally ending in #ephemeral"))
	}
	if !nsq.IsValidChannelName(spec.Channel) {
		errs = errs.Also(apis.ErrInvalidValue(spec.Channel, "channel", "an NSQ channel name is 1 to 64 characters of [.a-zA-Z0-9_-], optionally ending in #ephemeral"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	tlsConfig, fe := conn.TLS(ctx, spec.TLS, deps.Secrets)
	errs = errs.Also(fe)
	if spec.Filter != nil && strings.TrimSpace(spec.Filter.Expression) != "" {
		f, err := filter.Compile(spec.Filter.Expression)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(spec.Filter.Expression, "filter.expression", err.Error()))
		}
		e.filter = f
	}
	if len(spec.Metadata) > 0 {
		b, err := json.Marshal(spec.Metadata)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(err.Error(), "metadata"))
		}
		e.data.metadata = b
	}
	if errs != nil {
		return nil, errs
	}
	e.data.jsonBody = spec.JSONBody
	e.metrics = deps.Metrics.Event(es.Name, name)
	e.config = func() *nsq.Config {
		c := nsq.NewConfig()
		c.MaxInFlight = set.inFlight
		c.MaxAttempts = 0 // never give a message up: it is requeued until stored
		c.LookupdPollInterval = set.lookupdPoll
		c.MsgTimeout = set.msgTimeout
		if tlsConfig != nil {
			c.TlsV1 = true
			c.TlsConfig = tlsConfig
		}
		return c
	}
	return e, nil
}
