// Package kafka implements the Argo Events `kafka` trigger with franz-go: one
// record per firing, its value the payload the engine built, produced
// synchronously with acks from every in-sync replica.
//
// Where flint differs from Argo:
//   - Argo hands the record to sarama's asynchronous producer and only logs
//     a failure; flint waits for the broker (ProduceSync, acks=all), so a
//     failed produce fails the firing and the sensor's retryStrategy and
//     dead-letter trigger see it. `requiredAcks` and `flushFrequency` are
//     therefore not read: every record waits for all in-sync replicas and
//     goes out at once.
//   - `partition`, which Argo ignores (deprecated), is honoured when it is
//     not 0; 0 cannot be told from unset and partitions as Argo does:
//     `partitioningKey` hashed with sarama's hash partitioner (FNV-1a 32 of
//     the key, as a signed number modulo the partition count, negated when
//     negative), a random partition without a key.
//   - `tls` is verified as written; Argo turns certificate verification off.
//   - `schemaRegistry` (Avro) is refused at its field, and `secureHeaders`
//     read from secrets only (a configMapKeyRef is refused at its field).
package kafka

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/conn/kafkaconn"
	"github.com/flintevents/flint/pkg/secret"
	"github.com/flintevents/flint/triggers"
)

// ProduceTimeout bounds one firing: the produce of its record, retries
// included.
const ProduceTimeout = 30 * time.Second

// setupTimeout bounds the secret lookups done while building the client.
const setupTimeout = 30 * time.Second

func init() { triggers.Register(v1alpha1.TriggerTypeKafka, New, facts()...) }

// Trigger produces one record per firing through a client built once for
// the trigger; `url`, `tls`, `sasl`, `version` and `compress` count as
// written, the other fields (topic, key, partition, headers) as resolved
// at each firing.
type Trigger struct {
	client  *kgo.Client
	secrets secret.Resolver
	now     func() time.Time
	logger  *zap.Logger
}

// New builds the trigger and its client, reading its TLS and SASL secrets;
// it connects to nothing. Problems are relative to the spec (`url`,
// `sasl.userSecret`, `schemaRegistry`).
func New(spec *v1alpha1.KafkaTrigger, deps triggers.Deps) (triggers.Trigger[v1alpha1.KafkaTrigger], error) {
	errs := check(spec)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	opts, ferr := kafkaconn.Options(ctx, kafkaconn.Spec{URL: spec.URL, TLS: spec.TLS, SASL: spec.SASL, Version: spec.Version}, deps.Secrets)
	if errs = errs.Also(ferr); errs != nil {
		return nil, errs
	}
	opts = append(opts,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(saramaPartitioner()),
		kgo.RecordDeliveryTimeout(ProduceTimeout),
		kgo.ProducerLinger(0),
		kgo.AllowAutoTopicCreation(),
	)
	if spec.Compress {
		opts = append(opts, kgo.ProducerBatchCompression(kgo.SnappyCompression()))
	}
	client, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: building the client: %w", err)
	}
	logger := deps.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Trigger{
		client:  client,
		secrets: deps.Secrets,
		now:     deps.Clock(),
		logger:  logger.With(zap.String("triggerType", v1alpha1.TriggerTypeKafka)),
	}, nil
}

// check refuses what flint cannot produce as Argo would.
func check(spec *v1alpha1.KafkaTrigger) *apis.FieldError {
	var errs *apis.FieldError
	if spec.SchemaRegistry != nil {
		errs = errs.Also(apis.ErrGeneric("Avro records through a schema registry are not supported", "schemaRegistry"))
	}
	if spec.Partition < 0 {
		errs = errs.Also(apis.ErrInvalidValue(spec.Partition, "partition", "must not be negative"))
	}
	for i, h := range spec.SecureHeaders {
		var herr *apis.FieldError
		switch {
		case h == nil || h.ValueFrom == nil:
			herr = apis.ErrMissingField("valueFrom")
		case h.ValueFrom.SecretKeyRef == nil && h.ValueFrom.ConfigMapKeyRef != nil:
			herr = apis.ErrGeneric("not supported, use secretKeyRef", "valueFrom.configMapKeyRef")
		case h.ValueFrom.SecretKeyRef == nil:
			herr = apis.ErrMissingField("valueFrom.secretKeyRef")
		}
		errs = errs.Also(herr.ViaFieldIndex("secureHeaders", i))
	}
	return errs
}

// Fire produces the firing's payload to the spec's topic and waits until
// every in-sync replica has it; a produce that fails or outlasts
// ProduceTimeout is an error.
func (t *Trigger) Fire(ctx context.Context, spec *v1alpha1.KafkaTrigger, in triggers.Firing) (triggers.Result, error) {
	if spec.Topic == "" {
		return triggers.Result{}, fmt.Errorf("kafka.topic: required")
	}
	if err := check(spec); err != nil {
		return triggers.Result{}, fmt.Errorf("kafka: %w", err)
	}
	r, err := t.record(ctx, spec, in.Payload)
	if err != nil {
		return triggers.Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, ProduceTimeout)
	defer cancel()
	if err := t.client.ProduceSync(ctx, r).FirstErr(); err != nil {
		return triggers.Result{}, fmt.Errorf("kafka: producing to topic %q: %w", spec.Topic, err)
	}
	if ce := t.logger.Check(zap.DebugLevel, "kafka trigger produced a record"); ce != nil {
		ce.Write(zap.String("sensor", in.Sensor), zap.String("trigger", in.Trigger), zap.String("topic", r.Topic),
			zap.Int32("partition", r.Partition), zap.Int64("offset", r.Offset))
	}
	return triggers.Result{}, nil
}

// record is the record of one firing: the payload as value (empty, not
// null, when there is none, as Argo sends it), `partitioningKey` as key,
// `headers` by name and then `secureHeaders` in order, the time now.
func (t *Trigger) record(ctx context.Context, spec *v1alpha1.KafkaTrigger, payload []byte) (*kgo.Record, error) {
	if payload == nil {
		payload = []byte{}
	}
	r := &kgo.Record{Topic: spec.Topic, Value: payload, Timestamp: t.now(), Partition: unset}
	if spec.PartitioningKey != nil {
		r.Key = []byte(*spec.PartitioningKey)
	}
	if spec.Partition > 0 {
		r.Partition = spec.Partition
	}
	names := make([]string, 0, len(spec.Headers))
	for n := range spec.Headers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: n, Value: []byte(spec.Headers[n])})
	}
	for i, h := range spec.SecureHeaders {
		v, err := secret.Value(ctx, t.secrets, h.ValueFrom.SecretKeyRef, fmt.Sprintf("kafka.secureHeaders[%d].valueFrom.secretKeyRef", i))
		if err != nil {
			return nil, err
		}
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Name, Value: []byte(v)})
	}
	return r, nil
}

// Close flushes nothing (every firing waited for its record) and closes the
// client.
func (t *Trigger) Close() error {
	t.client.Close()
	return nil
}
