// Package kafka implements the Argo Events `kafka` EventSource with franz-go:
// each entry reads one topic, as a member of a consumer group
// (`consumerGroup`) or from one partition (`partition`), and emits one event
// per record, its data exactly Argo's: topic, key, partition, body (base64,
// or the value as JSON with `jsonBody`), timestamp, headers and metadata.
//
// Records run through the pull runner in Ordered mode, one lane per
// topic/partition: a record's offset is committed only after its event and
// every earlier one of its partition were stored. The event id is
// `topic/partition/offset`, so the broker drops the redelivery of a record
// stored before its commit.
//
// Where flint differs from Argo:
//   - Group mode commits after the broker stored the event (Argo marks after
//     publishing too, but skips a record whose publish failed for a reason
//     other than the bus, and lets sarama commit every second); a record
//     whose event is not stored is retried in place, holding its partition.
//   - Partition mode: Argo commits nothing and starts at the newest offset
//     on every start. flint also starts at the newest offset when the source
//     starts, then keeps the next offset of the partition in memory: a
//     reconnect (a broker restart) resumes after the last stored record
//     instead of at the newest; a restart of the source starts at the newest
//     again, as Argo's does. Nothing is committed to Kafka.
//   - The event id is `topic/partition/offset` (Argo's is
//     `<eventSource>:<event>:<firstBroker>:<topic>:<partition>:<offset>`);
//     both are stable across redeliveries.
//   - `limitEventsPerSecond` paces partition mode too (Argo's only group mode).
//   - `config`, Argo's sarama settings, is mapped where franz-go has the
//     setting (clientID, net.dialTimeout, metadata.refreshFrequency,
//     consumer.fetch.{min,default,max}, consumer.maxWaitTime,
//     consumer.isolationLevel, consumer.offsets.initial and
//     consumer.group.{session.timeout, heartbeat.interval,
//     rebalance.timeout, instanceId}); every other key is ignored with a
//     warning naming it, logged at start.
//   - `version` caps the protocol versions the client speaks; empty lets it
//     negotiate with the broker (Argo pins 1.0.0).
//   - `schemaRegistry` (Avro) is refused at its field; a record whose value
//     is not JSON under `jsonBody` is skipped with an error logged, as Argo
//     skips it.
package kafka

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn/kafkaconn"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/filter"
	"github.com/flintevents/flint/sources/pull"
)

// Type is the EventSource type key of kafka events.
const Type = v1alpha1.TypeKafka

// setupTimeout bounds the secret lookups done while building the source.
const setupTimeout = 30 * time.Second

// autoCommitInterval is how often the offsets of stored records are
// committed while the source runs (sarama's, and Argo's, is 1s); they are
// committed at once on a rebalance and when the source stops.
const autoCommitInterval = time.Second

func init() { sources.Register(Type, sources.Pull, New, sources.KeepsBacklog()) }

// New builds the source of every kafka entry of es: it validates the entries
// and reads their secrets, and dials nothing until Run. Problems are at
// `spec.kafka[<name>].<field>`.
func New(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
	if es == nil || len(es.Spec.Kafka) == 0 {
		return nil, apis.ErrMissingField("spec.kafka")
	}
	src, err := pull.Build(es, Type, deps, func(name string, log *zap.Logger) (pull.Entry, *apis.FieldError) {
		spec := es.Spec.Kafka[name]
		e, ferr := newEntry(es.Name, name, &spec, deps, log)
		if ferr != nil {
			return pull.Entry{}, ferr
		}
		return pull.Entry{Dial: e.dial, Options: e.options()}, nil
	})
	if err != nil {
		return nil, err
	}
	return src, nil
}

// newEntry validates one entry and prepares its client options; log names
// the EventSource and the entry. Problems are relative to the entry.
func newEntry(esName, name string, spec *v1alpha1.KafkaEventSource, deps sources.Deps, log *zap.Logger) (*entry, *apis.FieldError) {
	var errs *apis.FieldError
	if spec.Topic == "" {
		errs = errs.Also(apis.ErrMissingField("topic"))
	}
	if spec.SchemaRegistry != nil {
		errs = errs.Also(apis.ErrGeneric("Avro records through a schema registry are not supported", "schemaRegistry"))
	}
	if spec.LimitEventsPerSecond < 0 {
		errs = errs.Also(apis.ErrInvalidValue(spec.LimitEventsPerSecond, "limitEventsPerSecond", "must not be negative"))
	}
	e := &entry{
		name:    name,
		topic:   spec.Topic,
		spec:    spec,
		metrics: deps.Metrics.Event(esName, name),
		log:     log.With(zap.String("topic", spec.Topic)),
	}
	if spec.LimitEventsPerSecond > 0 {
		e.interval = time.Second / time.Duration(spec.LimitEventsPerSecond)
	}
	if g := spec.ConsumerGroup; g != nil {
		e.group = g.GroupName
		if e.group == "" {
			errs = errs.Also(apis.ErrMissingField("consumerGroup.groupName"))
		}
		b, ferr := balancer(g.RebalanceStrategy)
		errs = errs.Also(ferr.ViaField("consumerGroup"))
		e.groupOpts = append(e.groupOpts, kgo.ConsumerGroup(g.GroupName), kgo.ConsumeTopics(spec.Topic),
			kgo.Balancers(b), kgo.AutoCommitMarks(), kgo.AutoCommitInterval(autoCommitInterval))
	} else {
		p, err := strconv.ParseInt(spec.Partition, 10, 32)
		switch {
		case spec.Partition == "":
			errs = errs.Also(&apis.FieldError{Message: "missing field(s)", Paths: []string{"partition"}, Details: "required without consumerGroup"})
		case err != nil || p < 0:
			errs = errs.Also(apis.ErrInvalidValue(spec.Partition, "partition", "not a partition number"))
		}
		e.partition = int32(p)
		e.offsets = &offsetTracker{}
	}
	if spec.Filter != nil && strings.TrimSpace(spec.Filter.Expression) != "" {
		f, err := filter.Compile(spec.Filter.Expression)
		if err != nil {
			errs = errs.Also(apis.ErrInvalidValue(spec.Filter.Expression, "filter.expression", err.Error()))
		}
		e.filter = f
	}
	cfg, ferr := parseSaramaConfig(spec.Config, e.group != "")
	errs = errs.Also(ferr)
	e.ignored = cfg.ignored
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	opts, ferr := kafkaconn.Options(ctx, kafkaconn.Spec{URL: spec.URL, TLS: spec.TLS, SASL: spec.SASL, Version: spec.Version}, deps.Secrets)
	errs = errs.Also(ferr)
	if errs != nil {
		return nil, errs
	}
	e.opts = append(opts, cfg.client...)
	if e.group != "" {
		e.groupOpts = append(e.groupOpts, cfg.group...)
		reset := kgo.NewOffset().AtEnd()
		if cfg.reset != nil {
			reset = *cfg.reset
		}
		if spec.ConsumerGroup.Oldest {
			reset = kgo.NewOffset().AtStart()
		}
		e.groupOpts = append(e.groupOpts, kgo.ConsumeResetOffset(reset))
	}
	return e, nil
}

// balancer is franz-go's group balancer of Argo's `rebalanceStrategy`;
// empty is Argo's default, range.
func balancer(strategy string) (kgo.GroupBalancer, *apis.FieldError) {
	switch strategy {
	case "", "range":
		return kgo.RangeBalancer(), nil
	case "roundrobin":
		return kgo.RoundRobinBalancer(), nil
	case "sticky":
		return kgo.StickyBalancer(), nil
	default:
		return nil, apis.ErrInvalidValue(strategy, "rebalanceStrategy", "must be range, roundrobin or sticky")
	}
}

// options are the runner's options of the entry: ordered per partition,
// reconnecting as `connectionBackoff` says.
func (e *entry) options() pull.Options {
	return pull.Options{Name: e.name, Logger: e.log, Ordered: true, Reconnect: pull.Reconnect(e.spec.ConnectionBackoff)}
}

// describe names the mode, for the start log line.
func (e *entry) describe() string {
	if e.group != "" {
		return fmt.Sprintf("consumer group %q", e.group)
	}
	return fmt.Sprintf("partition %d", e.partition)
}
