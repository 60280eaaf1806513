// Package sensor is the kn func runtime of one Sensor: the broker delivers
// each matching event to Handle (or to ServeHTTP, its HTTP edge), which hands
// it to the sensor engine. It answers success only after every trigger the
// event fired succeeded, so the broker redelivers on failure (at-least-once).
package sensor

import (
	"context"
	"fmt"
	"strconv"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/pkg/sensor"
)

// The environment variables that say where and as whom a sensor function
// keeps its state in a cluster (NATSFromEnv).
const (
	// NATSURLEnv holds the URL of the NATS whose JetStream keeps the state.
	NATSURLEnv = "FLINT_NATS_URL"
	// NATSUserEnv and NATSPasswordEnv hold the NATS user the function
	// connects as, which `flint compile` reads from the Secret
	// flint-nats-sensor of the function's namespace.
	NATSUserEnv     = "FLINT_NATS_USER"
	NATSPasswordEnv = "FLINT_NATS_PASSWORD"
	// StateReplicasEnv holds how many replicas the state bucket has in a
	// clustered JetStream; 1 when unset.
	StateReplicasEnv = "FLINT_STATE_REPLICAS"
)

// NATS says where a sensor function keeps its condition state and
// idempotency keys, and as whom it connects there.
type NATS struct {
	// URL is the NATS server; empty keeps the state in memory, per pod.
	URL string
	// User and Password authenticate the connection; no user connects
	// without credentials (or with those the URL carries).
	User, Password string
	// Replicas is the state bucket's replica count in a clustered
	// JetStream; 1 when zero.
	Replicas int
}

// NATSFromEnv reads NATS from FLINT_NATS_URL, FLINT_NATS_USER,
// FLINT_NATS_PASSWORD and FLINT_STATE_REPLICAS; a replica count that is not
// a positive number is an error naming the variable.
func NATSFromEnv(getenv func(string) string) (NATS, error) {
	n := NATS{URL: getenv(NATSURLEnv), User: getenv(NATSUserEnv), Password: getenv(NATSPasswordEnv)}
	if v := getenv(StateReplicasEnv); v != "" {
		r, err := strconv.Atoi(v)
		if err != nil || r < 1 {
			return NATS{}, fmt.Errorf("%s: %q is not a positive number of replicas", StateReplicasEnv, v)
		}
		n.Replicas = r
	}
	return n, nil
}

// Function runs one Sensor.
type Function struct {
	engine *sensor.Sensor
	logger *zap.Logger
	conn   *nats.Conn // the connection the state lives on; nil: in memory
	// metrics counts events and firings; nil (until Instrument) counts nothing.
	metrics *metrics.SensorMetrics
}

// New compiles a Sensor with the engine; the error is the engine's
// *apis.FieldError, with every problem and its field path.
func New(s *v1alpha1.Sensor, opts sensor.Options) (*Function, error) {
	eng, err := sensor.New(s, opts)
	if err != nil {
		return nil, fmt.Errorf("sensor %s: %w", s.Name, err)
	}
	logger := opts.Deps.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Function{engine: eng, logger: logger.With(zap.String("sensor", s.Name))}, nil
}

// Connect compiles a Sensor as New does and keeps its condition state and
// idempotency keys in the sensor's JetStream KV bucket (sensor.BucketName of
// its namespace, "default" when it names none, and name) on the NATS at
// n.URL as n.User, so that every pod of the function shares them: `a && b`
// holds when a and b reach different pods. The connection retries for ever,
// so a NATS that is not reachable yet fails events (and the broker
// redelivers them) rather than the function; Close closes it. An empty
// n.URL keeps the state in opts.Store, as New does.
func Connect(s *v1alpha1.Sensor, n NATS, opts sensor.Options) (*Function, error) {
	if n.URL == "" {
		return New(s, opts)
	}
	natsOpts := []nats.Option{nats.Name("flint-sensor-" + s.Name), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true)}
	if n.User != "" {
		natsOpts = append(natsOpts, nats.UserInfo(n.User, n.Password))
	}
	nc, err := nats.Connect(n.URL, natsOpts...)
	if err != nil {
		return nil, fmt.Errorf("sensor %s: connecting to nats: %w", s.Name, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("sensor %s: connecting to jetstream: %w", s.Name, err)
	}
	ns := s.Namespace
	if ns == "" {
		ns = "default"
	}
	opts.Store = sensor.NewKVStore(js, sensor.BucketName(ns, s.Name), sensor.KVOptions{Replicas: n.Replicas})
	f, err := New(s, opts)
	if err != nil {
		nc.Close()
		return nil, err
	}
	f.conn = nc
	return f, nil
}

// Handle processes one delivered event. It returns nil when the event was
// handled (fired, filtered out, or not for this sensor) and an error wrapping
// sensor.ErrTriggerFailed when the event should be redelivered. It never
// returns a reply event.
// At debug level, a dependency the event is for but did not pass is logged
// with the check of every filter that ran, as `flint test` prints them.
func (f *Function) Handle(ctx context.Context, ce cloudevents.Event) (*cloudevents.Event, error) {
	ev := event.FromCloudEvent(ce)
	if f.metrics != nil {
		ctx = sensor.WithObserver(ctx, f.metrics)
	}
	err := f.engine.Handle(ctx, ev)
	f.metrics.Handled(err)
	if f.logger.Core().Enabled(zap.DebugLevel) {
		f.explain(ctx, ev)
	}
	return nil, err
}

// Receive handles one delivery of ce made in process by the broker's dispatcher, as
// Handle does; attempt counts the deliveries of ce from 1. The dispatcher acknowledges
// the event as soon as Receive returns nil, so idempotency keys are looked up only for
// a redelivery and recorded only for a round that failed (sensor.WithInProcessDelivery).
func (f *Function) Receive(ctx context.Context, ce *cloudevents.Event, attempt int) error {
	_, err := f.Handle(sensor.WithInProcessDelivery(ctx, attempt), *ce)
	return err
}

// explain logs why the event did not pass the dependencies it is for; the
// filters run again for it, with no effect on the condition state.
func (f *Function) explain(ctx context.Context, ev *event.Event) {
	for _, d := range f.engine.ExplainFilters(ctx, ev) {
		if !d.ForEvent || d.Passed {
			continue
		}
		checks := make([]string, len(d.Filters))
		for i, c := range d.Filters {
			checks[i] = c.String()
		}
		why := d.Reason
		if d.Error != "" {
			why = d.Error
		}
		f.logger.Debug("event did not pass the dependency's filters", zap.String("eventID", ev.Context.ID),
			zap.String("dependency", d.Name), zap.String("reason", why), zap.Strings("filters", checks))
	}
}

// NotRunnable lists the field paths of the triggers whose type this build
// cannot run (with sensor.Options.AllowNotRunnable), e.g. `spec.triggers[1].template.kafka`.
func (f *Function) NotRunnable() []string { return f.engine.NotRunnable() }

// Close closes the sensor's triggers and its NATS connection (every state
// update is acknowledged before Handle returns, so none is pending).
func (f *Function) Close() error {
	err := f.engine.Close()
	if f.conn != nil {
		f.conn.Close()
	}
	return err
}
