// Package broker is flint's Knative broker data plane: an HTTP ingress that stores
// CloudEvents in one NATS JetStream stream per broker, and a dispatcher that delivers them
// to Knative Trigger subscribers. DataPlane wires both halves.
package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	duckv1 "knative.dev/eventing/pkg/apis/duck/v1"
	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"

	"github.com/flintevents/flint/broker/dispatcher"
	"github.com/flintevents/flint/broker/ingress"
	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/pkg/metrics"
)

// Config tunes the data plane; zero values take the defaults named per field.
type Config struct {
	// MaxEventSize is the largest event the ingress accepts, in bytes; default 1 MiB.
	MaxEventSize int64
	// DuplicateWindow is how long a re-sent event (same source and id) is stored only once; default 2 min.
	DuplicateWindow time.Duration
	// StreamReplicas is the replica count of broker streams in a clustered JetStream; default 1.
	StreamReplicas int
	// MaxAge, when set, removes events older than it from a broker stream even if a
	// trigger has not delivered them yet; default none: an event stays until every
	// trigger delivered or dead-lettered it.
	MaxAge time.Duration
	// MaxBytes caps the store of each broker stream: when full, the ingress answers 503
	// until deliveries free space, and nothing stored is dropped; default 1 GiB,
	// negative for no cap of its own (the server's store limit still applies).
	MaxBytes int64
	// StreamsOwnedElsewhere says another process writes the broker streams'
	// settings (in a cluster, the broker controller, which alone reads
	// --stream-max-bytes and the other stream flags): the data plane then only
	// checks that a broker's streams exist, opens the ingress to it once they
	// do, and never creates or updates a stream.
	StreamsOwnedElsewhere bool
	// Concurrency bounds in-flight deliveries per trigger; default 100.
	Concurrency int
	// DefaultTimeout bounds one delivery attempt when no DeliverySpec sets a timeout; default 30 s.
	DefaultTimeout time.Duration
	// DefaultDelivery applies to triggers whose trigger and broker set no delivery options;
	// nil means Knative's cluster default: 10 retries, exponential backoff from 0.2 s.
	DefaultDelivery *duckv1.DeliverySpec
	// PublishTimeout bounds the wait for JetStream to store an event or reply; default 5 s.
	PublishTimeout time.Duration
	// StoreTimeout bounds how long the ingress keeps sending an event JetStream did not
	// answer (same de-duplication key) before it answers 504; default 20 s.
	StoreTimeout time.Duration
	// AckWait is how soon events in flight in a dispatcher that crashed are handed out
	// again; running deliveries report progress, so it does not bound their time;
	// default 8 s.
	AckWait time.Duration
	// MaxBackoff caps the exponential (or linear) backoff between retries of a trigger,
	// so a subscriber back from an outage gets its events within it; default 1 min.
	MaxBackoff time.Duration
	// DrainTimeout bounds how long Run waits for in-flight deliveries once stopped; default 30 s.
	DrainTimeout time.Duration
	// DefaultTTL is the knativebrokerttl of events that arrive without one; default 255.
	DefaultTTL int32
	// Transport carries deliveries to subscribers; default a keep-alive transport.
	Transport http.RoundTripper
	// Local finds the subscribers that run in this process, whose deliveries skip
	// HTTP; nil delivers everything over Transport.
	Local dispatcher.LocalSubscribers
	// IngressOnly leaves trigger consumers alone: Apply opens the ingress to the brokers
	// but neither creates nor deletes consumers, for an ingress that runs apart from its
	// dispatcher.
	IngressOnly bool
	// Metrics counts the ingress's requests and each trigger's deliveries, filtered
	// events and dead letters (Knative's event_count and event_dispatch_latencies);
	// nil counts nothing.
	Metrics *metrics.Broker
}

// KnativeDefaultDelivery is Knative's cluster default DeliverySpec (config-br-defaults):
// 10 retries with exponential backoff starting at 0.2 s.
func KnativeDefaultDelivery() *duckv1.DeliverySpec {
	retry := int32(10)
	policy := duckv1.BackoffPolicyExponential
	delay := "PT0.2S"
	return &duckv1.DeliverySpec{Retry: &retry, BackoffPolicy: &policy, BackoffDelay: &delay}
}

// maxPendingPublishes bounds events awaiting JetStream's acknowledgement; beyond it a
// publish waits briefly, then the ingress answers 503.
const maxPendingPublishes = 8192

// DataPlane is the ingress and dispatcher of a set of brokers over one NATS connection.
type DataPlane struct {
	nc         *nats.Conn
	js         jetstream.JetStream
	cfg        Config
	logger     *zap.Logger
	registry   *ingress.Registry
	ingress    *ingress.Handler
	handler    http.Handler // ingress, counted when Config.Metrics is set
	dispatcher *dispatcher.Dispatcher

	running atomic.Bool
	mu      sync.Mutex
	brokers []resolvedBroker // last applied
	// ingressMetrics keeps each broker's ingress counters across applies, by namespace/name.
	ingressMetrics map[string]*metrics.BrokerTarget
}

// New returns a data plane over nc; it does not touch JetStream until Apply.
func New(nc *nats.Conn, cfg Config, logger *zap.Logger) (*DataPlane, error) {
	if nc == nil {
		return nil, errors.New("creating data plane: nil NATS connection")
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	if cfg.DefaultDelivery == nil {
		cfg.DefaultDelivery = KnativeDefaultDelivery()
	}
	if _, err := dispatcher.ParseDelivery(cfg.DefaultDelivery); err != nil {
		return nil, fmt.Errorf("creating data plane: %w", err.ViaField("DefaultDelivery"))
	}
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = ingress.DefaultPublishTimeout
	}
	js, err := jetstream.New(nc, bus.JetStreamOptions(maxPendingPublishes, cfg.PublishTimeout)...)
	if err != nil {
		return nil, fmt.Errorf("creating data plane: %w", err)
	}
	pub := bus.NewPublisher(js)
	dp := &DataPlane{
		nc:       nc,
		js:       js,
		cfg:      cfg,
		logger:   logger,
		registry: ingress.NewRegistry(),

		ingressMetrics: make(map[string]*metrics.BrokerTarget),
	}
	dp.ingress = ingress.New(dp.registry, pub, ingress.Config{
		MaxEventSize:   cfg.MaxEventSize,
		PublishTimeout: cfg.PublishTimeout,
		StoreTimeout:   cfg.StoreTimeout,
		DefaultTTL:     cfg.DefaultTTL,
	}, logger.Named("ingress"))
	dp.handler = dp.ingress
	if cfg.Metrics != nil {
		dp.handler = ingress.Counted(dp.ingress, dp.registry)
	}
	dp.dispatcher = dispatcher.New(js, pub, dispatcher.Config{
		Concurrency:    cfg.Concurrency,
		DefaultTimeout: cfg.DefaultTimeout,
		AckWait:        cfg.AckWait,
		MaxBackoff:     cfg.MaxBackoff,
		Streams:        dp.streamOptions(),
		KeepStreams:    cfg.StreamsOwnedElsewhere,
		DrainTimeout:   cfg.DrainTimeout,
		MaxReplySize:   cfg.MaxEventSize,
		PublishTimeout: cfg.PublishTimeout,
		Transport:      cfg.Transport,
		Local:          cfg.Local,
		Metrics:        cfg.Metrics,
	}, logger.Named("dispatcher"))
	return dp, nil
}

// Ingress is the HTTP handler accepting events at /<namespace>/<broker>.
func (dp *DataPlane) Ingress() http.Handler { return dp.handler }

// Apply makes brokers and triggers the data plane's desired state: it validates them all
// first (an invalid object changes nothing and is reported with its field), then ensures
// each broker's stream and dead-letter stream, opens the ingress to them, and creates,
// updates or removes trigger consumers. Streams of brokers no longer listed are kept
// (with their undelivered events and dead letters) but no longer accept events. Apply is idempotent and may run before or during Run.
func (dp *DataPlane) Apply(ctx context.Context, brokers []*eventingv1.Broker, triggers []*eventingv1.Trigger) error {
	want, err := resolve(brokers, triggers, dp.cfg.DefaultDelivery)
	if err != nil {
		return err
	}
	dp.mu.Lock()
	defer dp.mu.Unlock()
	var errs []error
	targets := make([]ingress.Target, 0, len(want.brokers))
	owned := make([]dispatcher.Broker, 0, len(want.brokers))
	for _, b := range want.brokers {
		if err := dp.ensureStreams(ctx, b); err != nil {
			errs = append(errs, fmt.Errorf("applying broker %s/%s: %w", b.namespace, b.name, err))
			continue
		}
		targets = append(targets, ingress.Target{Namespace: b.namespace, Name: b.name, Subject: bus.Subject(b.namespace, b.name),
			Metrics: dp.ingressTarget(b.namespace, b.name)})
		owned = append(owned, dispatcher.Broker{Namespace: b.namespace, Name: b.name})
	}
	// Consumers first: a trigger created with its broker sees every event the ingress
	// accepts from then on (its consumer delivers only new events).
	if !dp.cfg.IngressOnly {
		if err := dp.dispatcher.Apply(ctx, owned, want.triggers); err != nil {
			errs = append(errs, err)
		}
	}
	dp.registry.Set(targets)
	dp.brokers = want.brokers
	return errors.Join(errs...)
}

// ingressTarget is the ingress counters of a broker, resolved once; dp.mu must be held.
func (dp *DataPlane) ingressTarget(namespace, name string) *metrics.BrokerTarget {
	if dp.cfg.Metrics == nil {
		return nil
	}
	key := namespace + "/" + name
	t, ok := dp.ingressMetrics[key]
	if !ok {
		t = dp.cfg.Metrics.Ingress(namespace, name)
		dp.ingressMetrics[key] = t
	}
	return t
}

// ApplyValid is Apply for a source of objects that cannot refuse them, such as a
// cluster's informers: the brokers and triggers Apply would refuse are left out and
// reported in refused (each wrapping ErrInvalid), and the rest are applied; err is
// Apply's. A trigger whose broker is refused is refused too.
func (dp *DataPlane) ApplyValid(ctx context.Context, brokers []*eventingv1.Broker, triggers []*eventingv1.Trigger) (refused, err error) {
	var problems []error
	okBrokers := make([]*eventingv1.Broker, 0, len(brokers))
	for _, b := range brokers {
		if _, err := resolve([]*eventingv1.Broker{b}, nil, dp.cfg.DefaultDelivery); err != nil {
			problems = append(problems, err)
			continue
		}
		okBrokers = append(okBrokers, b)
	}
	okTriggers := make([]*eventingv1.Trigger, 0, len(triggers))
	for _, t := range triggers {
		if _, err := resolve(okBrokers, []*eventingv1.Trigger{t}, dp.cfg.DefaultDelivery); err != nil {
			problems = append(problems, err)
			continue
		}
		okTriggers = append(okTriggers, t)
	}
	return errors.Join(problems...), dp.Apply(ctx, okBrokers, okTriggers)
}

// Run dispatches events until ctx is done, then stops every consumer loop and waits for
// in-flight deliveries (up to DrainTimeout). After a NATS reconnect it re-ensures streams
// and consumers, in case the server lost them.
func (dp *DataPlane) Run(ctx context.Context) error {
	if !dp.running.CompareAndSwap(false, true) {
		return dispatcher.ErrRunning
	}
	defer dp.running.Store(false)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		dp.watchReconnects(ctx)
	}()
	err := dp.dispatcher.Run(ctx)
	wg.Wait()
	return err
}

// watchReconnects re-ensures streams and consumers after each reconnect until ctx is done.
func (dp *DataPlane) watchReconnects(ctx context.Context) {
	ch := dp.nc.StatusChanged(nats.CONNECTED)
	defer dp.nc.RemoveStatusListener(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
		}
		wait := 100 * time.Millisecond
		for {
			err := dp.resync(ctx)
			if err == nil {
				break
			}
			dp.logger.Warn("re-ensuring streams and consumers after reconnect", zap.Error(err), zap.Duration("retryIn", wait))
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, 10*time.Second)
		}
	}
}

func (dp *DataPlane) resync(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dp.mu.Lock()
	brokers := dp.brokers
	dp.mu.Unlock()
	for _, b := range brokers {
		if err := dp.ensureStreams(ctx, b); err != nil {
			return err
		}
	}
	return dp.dispatcher.Resync(ctx)
}

// ensureStreams creates or updates a broker's stream and its dead-letter stream. When
// the server cannot reserve the configured size cap, the stream is created without one
// and that is logged: the server's store limit then bounds it. When the streams are
// owned elsewhere it only checks that they exist.
func (dp *DataPlane) ensureStreams(ctx context.Context, b resolvedBroker) error {
	if dp.cfg.StreamsOwnedElsewhere {
		if err := bus.CheckStreams(ctx, dp.js, b.namespace, b.name); err != nil {
			return fmt.Errorf("waiting for the broker controller to create it: %w", err)
		}
		return nil
	}
	opts := dp.streamOptions()
	got, err := bus.EnsureStreamCap(ctx, dp.js, b.namespace, b.name, opts)
	if err != nil {
		return err
	}
	if want := bus.StreamConfig(b.namespace, b.name, opts).MaxBytes; got != want {
		dp.logger.Warn("the NATS server cannot reserve the broker stream's size cap; the stream is bounded by the server's store only",
			zap.String("broker", b.namespace+"/"+b.name), zap.Int64("maxBytes", want))
	}
	return bus.EnsureDeadLetterStream(ctx, dp.js, b.namespace, b.name, opts)
}

func (dp *DataPlane) streamOptions() bus.StreamOptions {
	return bus.StreamOptions{Replicas: dp.cfg.StreamReplicas, DuplicateWindow: dp.cfg.DuplicateWindow, MaxAge: dp.cfg.MaxAge, MaxBytes: dp.cfg.MaxBytes}
}
