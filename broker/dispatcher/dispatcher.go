// Package dispatcher delivers the events of broker streams to Knative Trigger subscribers:
// one durable JetStream pull consumer per trigger, filtered, pushed concurrently over HTTP,
// retried through JetStream redelivery, dead-lettered when retries run out, replies fed
// back into the broker.
package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/broker/internal/wire"
	"github.com/flintevents/flint/pkg/metrics"
)

// Defaults of Config.
const (
	DefaultConcurrency    = 100
	DefaultTimeout        = 30 * time.Second
	DefaultAckWait        = 8 * time.Second
	DefaultDrainTimeout   = 30 * time.Second
	DefaultMaxReplySize   = 1 << 20
	DefaultPublishTimeout = 5 * time.Second
	DefaultRetryPending   = 1000
)

// ErrRunning is returned by Run when the dispatcher is already running.
var ErrRunning = errors.New("dispatcher already running")

// Publisher stores a reply event in a broker stream and returns once it is stored.
type Publisher interface {
	Publish(ctx context.Context, subject string, ev *cloudevents.Event) error
}

// Config tunes the dispatcher.
type Config struct {
	// Concurrency bounds in-flight deliveries of fresh events per trigger; default 100.
	Concurrency int
	// RetryConcurrency bounds in-flight deliveries of the events a trigger retries,
	// beside Concurrency; default a quarter of Concurrency, at least 1.
	RetryConcurrency int
	// RetryPending bounds how many events of a trigger's retry lane are handed out at
	// once, waiting for their backoff to end or being delivered; the others wait in the
	// stream, due and delivered as these settle. Default DefaultRetryPending.
	RetryPending int
	// DefaultTimeout bounds one delivery attempt when the DeliverySpec sets no timeout; default 30 s.
	DefaultTimeout time.Duration
	// AckWait is how long JetStream waits for a delivered event to be settled before it
	// hands it out again; a running delivery reports progress at a third of it, so it
	// bounds only how late events in flight in a crashed dispatcher are redelivered;
	// default 8 s.
	AckWait time.Duration
	// MaxBackoff caps the wait between retries of a trigger; default DefaultMaxBackoff.
	MaxBackoff time.Duration
	// Streams configure the dead-letter streams the dispatcher creates when it finds one
	// missing.
	Streams bus.StreamOptions
	// KeepStreams leaves a missing dead-letter stream to its owner (the broker
	// controller): the dead letter is retried until the stream is back.
	KeepStreams bool
	// DrainTimeout bounds how long Run waits for in-flight deliveries once stopped; default 30 s.
	DrainTimeout time.Duration
	// MaxReplySize is the largest reply body accepted from a subscriber; default 1 MiB.
	MaxReplySize int64
	// PublishTimeout bounds storing a reply; default 5 s.
	PublishTimeout time.Duration
	// Transport carries deliveries; default a keep-alive transport sized for Concurrency.
	Transport http.RoundTripper
	// Local finds the subscribers that run in this process; their deliveries skip
	// HTTP. nil delivers everything over Transport.
	Local LocalSubscribers
	// Metrics counts each trigger's deliveries, filtered events and dead letters; nil counts nothing.
	Metrics *metrics.Broker
}

func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.RetryConcurrency <= 0 {
		c.RetryConcurrency = max(1, c.Concurrency/4)
	}
	if c.RetryPending <= 0 {
		c.RetryPending = DefaultRetryPending
	}
	if c.DefaultTimeout <= 0 {
		c.DefaultTimeout = DefaultTimeout
	}
	if c.AckWait <= 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.MaxReplySize <= 0 {
		c.MaxReplySize = DefaultMaxReplySize
	}
	if c.PublishTimeout <= 0 {
		c.PublishTimeout = DefaultPublishTimeout
	}
	if c.Transport == nil {
		c.Transport = newTransport(max(c.Concurrency, 256))
	}
	return c
}

// Dispatcher runs one consumer loop per trigger. Its mutex guards the loop set and the
// run state; loops and deliveries never take it.
type Dispatcher struct {
	js     jetstream.JetStream
	pub    Publisher
	cfg    Config
	logger *zap.Logger
	sender *sender

	mu      sync.Mutex
	loops   map[string]*consumerLoop // by trigger namespace/name
	keepers map[string]*keeper       // by stream, of the brokers owned
	runCtx  context.Context          // non-nil while Run runs
	loopsWG sync.WaitGroup

	// deliveries counts delivery goroutines; deliverCtx outlives a stop by DrainTimeout.
	deliveries    sync.WaitGroup
	deliverCtx    context.Context
	deliverCancel context.CancelFunc
}

// New returns a dispatcher reading from js and storing replies through pub.
func New(js jetstream.JetStream, pub Publisher, cfg Config, logger *zap.Logger) *Dispatcher {
	cfg = cfg.withDefaults()
	d := &Dispatcher{
		js:      js,
		pub:     pub,
		cfg:     cfg,
		logger:  logger,
		sender:  newSender(cfg.Transport, cfg.MaxReplySize),
		loops:   make(map[string]*consumerLoop),
		keepers: make(map[string]*keeper),
	}
	d.deliverCtx, d.deliverCancel = context.WithCancel(context.Background())
	return d
}

// Apply makes the set of triggers current: it creates or updates their durable consumers
// (synchronously, so events published after Apply returns reach them), starts their loops
// when running, and stops loops and deletes consumers of triggers no longer present —
// including stale trigger consumers found on the streams of brokers. It is idempotent;
// on failure it returns every error and may be called again.
func (d *Dispatcher) Apply(ctx context.Context, brokers []Broker, triggers []Trigger) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	owned := make(map[string]bool, len(brokers))
	for _, b := range brokers {
		owned[bus.StreamName(b.Namespace, b.Name)] = true
		d.ensureKeeper(ctx, b)
	}
	for stream := range d.keepers {
		if !owned[stream] {
			delete(d.keepers, stream) // its broker is gone, or another dispatcher's
		}
	}
	want := make(map[string]bool, len(triggers))
	for i := range triggers {
		t := triggers[i]
		want[t.key()] = true
		if err := d.applyTrigger(ctx, &t); err != nil {
			errs = append(errs, fmt.Errorf("applying trigger %s: %w", t.key(), err))
		}
	}
	for key, l := range d.loops {
		if !want[key] {
			if err := d.removeLoop(ctx, l); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, b := range brokers {
		if err := d.sweep(ctx, b); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (d *Dispatcher) applyTrigger(ctx context.Context, t *Trigger) error {
	st := &triggerState{Trigger: *t, timeout: t.Delivery.Timeout}
	if d.cfg.Local != nil && t.Subscriber != nil {
		st.local = d.cfg.Local(t.Subscriber)
	}
	st.keeper = d.keepers[st.stream()]
	if st.timeout <= 0 {
		st.timeout = d.cfg.DefaultTimeout
	}
	st.ackWait = d.cfg.AckWait
	if st.Delivery.MaxBackoff <= 0 {
		st.Delivery.MaxBackoff = d.cfg.MaxBackoff
	}
	cfg := st.consumerConfig(d.cfg.Concurrency)
	rcfg := st.retryConsumerConfig(d.cfg.RetryPending)

	l, ok := d.loops[t.key()]
	if ok && l.state.Load().Broker == t.Broker {
		st.metrics = l.state.Load().metrics // same labels: keep the resolved counters
	} else {
		st.metrics = d.cfg.Metrics.Trigger(t.Namespace, t.Broker, t.Name)
	}
	if ok && l.consumer != cfg.Durable {
		// Same name, new UID: the trigger was re-created; its old consumer goes.
		if err := d.removeLoop(ctx, l); err != nil {
			return err
		}
		ok = false
	}
	if ok {
		if !consumerConfigEqual(*l.config.Load(), cfg) {
			if _, err := d.js.CreateOrUpdateConsumer(ctx, st.stream(), cfg); err != nil {
				return fmt.Errorf("updating consumer %s: %w", cfg.Durable, err)
			}
			l.config.Store(&cfg)
		}
		l.state.Store(st)
		d.applyRetries(ctx, l, st, rcfg)
		return nil
	}
	if _, err := d.js.CreateOrUpdateConsumer(ctx, st.stream(), cfg); err != nil {
		return fmt.Errorf("creating consumer %s: %w", cfg.Durable, err)
	}
	l = newConsumerLoop(d, st, cfg, false)
	d.loops[t.key()] = l
	if d.runCtx != nil {
		d.startLoop(l)
	}
	d.applyRetries(ctx, l, st, rcfg)
	return nil
}

// applyRetries creates or updates the retry lane of l's trigger and starts its loop
// when running; d.mu must be held. Without a lane (a stream that has no retry subjects
// yet, as one an older controller made) the trigger keeps its failed events in place
// while they wait (NakWithDelay), and the lane is tried again at the next Apply.
func (d *Dispatcher) applyRetries(ctx context.Context, l *consumerLoop, st *triggerState, rcfg jetstream.ConsumerConfig) {
	if r := l.retries.Load(); r != nil {
		if !consumerConfigEqual(*r.config.Load(), rcfg) {
			if _, err := d.js.CreateOrUpdateConsumer(ctx, st.stream(), rcfg); err != nil {
				d.logger.Warn("updating the retry consumer", zap.String("trigger", st.key()), zap.Error(err))
				return
			}
			r.config.Store(&rcfg)
		}
		r.state.Store(st)
		return
	}
	if _, err := d.js.CreateOrUpdateConsumer(ctx, st.stream(), rcfg); err != nil {
		d.logger.Warn("trigger runs without a retry lane: its failed events hold a delivery slot while they wait",
			zap.String("trigger", st.key()), zap.Error(err))
		return
	}
	r := newConsumerLoop(d, st, rcfg, true)
	l.retries.Store(r)
	if d.runCtx != nil && l.cancel != nil {
		d.startLoop(r)
	}
}

// ensureKeeper starts the keeper of a broker's stream unless it runs. It only spares
// the store work, so a failure is logged and tried again at the next Apply.
func (d *Dispatcher) ensureKeeper(ctx context.Context, b Broker) {
	stream := bus.StreamName(b.Namespace, b.Name)
	if _, ok := d.keepers[stream]; ok {
		return
	}
	k, err := newKeeper(ctx, d.js, b, d.logger)
	if err != nil {
		d.logger.Info("stream runs without a keeper", zap.String("stream", stream), zap.Error(err))
		return
	}
	d.keepers[stream] = k
}

// removeLoop stops a trigger's loop and deletes its durable consumer. Its in-flight
// deliveries finish on their own.
func (d *Dispatcher) removeLoop(ctx context.Context, l *consumerLoop) error {
	delete(d.loops, l.state.Load().key())
	var errs []error
	for _, c := range l.withRetries() {
		c.stop()
		err := d.js.DeleteConsumer(ctx, c.stream, c.consumer)
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
			errs = append(errs, fmt.Errorf("deleting consumer %s: %w", c.consumer, err))
		}
	}
	return errors.Join(errs...)
}

// sweep deletes trigger consumers on a broker stream that no current trigger owns, such
// as those of triggers removed while the dispatcher was down.
func (d *Dispatcher) sweep(ctx context.Context, b Broker) error {
	stream := bus.StreamName(b.Namespace, b.Name)
	s, err := d.js.Stream(ctx, stream)
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil
		}
		return fmt.Errorf("sweeping stream %s: %w", stream, err)
	}
	owned := make(map[string]bool, 2*len(d.loops))
	for _, l := range d.loops {
		owned[l.consumer] = true
		owned[l.state.Load().retryConsumerName()] = true // kept even while its lane is not running
	}
	names := s.ConsumerNames(ctx)
	var stale []string
	for name := range names.Name() {
		if strings.HasPrefix(name, bus.ConsumerPrefix) && !owned[name] {
			stale = append(stale, name)
		}
	}
	if err := names.Err(); err != nil {
		return fmt.Errorf("listing consumers of %s: %w", stream, err)
	}
	for _, name := range stale {
		if err := s.DeleteConsumer(ctx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("deleting stale consumer %s: %w", name, err)
		}
		d.logger.Info("deleted consumer of a removed trigger", zap.String("stream", stream), zap.String("consumer", name))
	}
	return nil
}

// Resync re-creates every trigger's consumer if it is missing, as after a NATS server
// restart that lost its store. It is safe to call at any time.
func (d *Dispatcher) Resync(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for _, l := range d.loops {
		for _, c := range l.withRetries() {
			if _, err := d.js.CreateOrUpdateConsumer(ctx, c.stream, *c.config.Load()); err != nil {
				errs = append(errs, fmt.Errorf("re-creating consumer %s: %w", c.consumer, err))
			}
		}
	}
	for _, k := range d.keepers {
		if err := k.ensure(ctx); err != nil {
			d.logger.Info("stream runs without a keeper", zap.String("stream", k.stream), zap.Error(err))
		}
	}
	return errors.Join(errs...)
}

// Run consumes for every applied trigger until ctx is done, then stops fetching, hands
// back unstarted events, and waits for in-flight deliveries (at most DrainTimeout, after
// which they are cancelled and redelivered later).
func (d *Dispatcher) Run(ctx context.Context) error {
	d.mu.Lock()
	if d.runCtx != nil {
		d.mu.Unlock()
		return ErrRunning
	}
	d.runCtx = ctx
	d.deliverCtx, d.deliverCancel = context.WithCancel(context.Background())
	for _, l := range d.loops {
		for _, c := range l.withRetries() {
			d.startLoop(c)
		}
	}
	d.mu.Unlock()

	<-ctx.Done()

	d.mu.Lock()
	d.runCtx = nil
	for _, l := range d.loops {
		for _, c := range l.withRetries() {
			c.signalStop()
		}
	}
	for _, l := range d.loops {
		for _, c := range l.withRetries() {
			c.awaitStop()
		}
	}
	d.mu.Unlock()
	d.loopsWG.Wait()

	drained := make(chan struct{})
	go func() {
		d.deliveries.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(d.cfg.DrainTimeout):
		d.logger.Warn("in-flight deliveries still running after drain timeout, cancelling them", zap.Duration("timeout", d.cfg.DrainTimeout))
		d.deliverCancel()
		<-drained
	}
	d.deliverCancel()
	return nil
}

// startLoop runs l under the current Run; d.mu must be held.
func (d *Dispatcher) startLoop(l *consumerLoop) {
	ctx, cancel := context.WithCancel(d.runCtx)
	l.start(cancel)
	d.loopsWG.Add(1)
	go func() {
		defer d.loopsWG.Done()
		l.run(ctx)
	}()
}

// reply stores a subscriber's reply in the trigger's broker with the original event's
// hop budget minus one; a spent budget drops the reply with a log line.
func (d *Dispatcher) reply(ctx context.Context, st *triggerState, origTTL int32, reply *cloudevents.Event) error {
	ttl := origTTL - 1
	if ttl <= 0 {
		d.logger.Warn("dropping reply: knativebrokerttl spent",
			zap.String("trigger", st.key()), zap.String("id", reply.ID()), zap.String("type", reply.Type()))
		return nil
	}
	wire.SetTTL(reply, ttl)
	ctx, cancel := context.WithTimeout(ctx, d.cfg.PublishTimeout)
	defer cancel()
	if err := d.pub.Publish(ctx, st.subject(), reply); err != nil {
		return fmt.Errorf("storing reply %s: %w", reply.ID(), err)
	}
	return nil
}

func consumerConfigEqual(a, b jetstream.ConsumerConfig) bool {
	return a.Durable == b.Durable && a.AckWait == b.AckWait && a.MaxDeliver == b.MaxDeliver &&
		a.MaxAckPending == b.MaxAckPending && a.FilterSubject == b.FilterSubject && a.Description == b.Description
}
