// Package deadletter reads and replays the dead-letter streams of flint brokers: the
// events a trigger gave up on (retries exhausted, or a response that is never retried)
// when it has no dead-letter sink, or its sink failed too. The dispatcher writes them;
// `flint dlq` lists them and replays them into their broker, to the trigger that gave up.
package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/broker/internal/wire"
)

// ErrNoConsumer means a dead letter was not replayed because its trigger has no consumer
// on the broker stream (the trigger is gone, or its dispatcher never ran): replaying it
// would lose it. The dead letter stays.
var ErrNoConsumer = errors.New("trigger has no consumer on its broker stream")

// fetchWait bounds the wait for the next dead letter of a stream being read.
const fetchWait = 2 * time.Second

// Letter is one dead letter.
type Letter struct {
	// Stream and Seq locate the letter in its dead-letter stream.
	Stream string
	Seq    uint64
	// Namespace, Broker and Trigger name where it came from (Broker as in subjects).
	Namespace, Broker, Trigger string
	// Time is when it was dead-lettered.
	Time time.Time
	// Subscriber is the URL the trigger could not deliver to.
	Subscriber string
	// Code is the subscriber's last HTTP status, 0 without a response.
	Code int
	// Error describes the last failure.
	Error string
	// Attempts is how many times the subscriber was tried.
	Attempts int
	// Event is the event, nil when the stored bytes are not a valid event.
	Event *cloudevents.Event

	data []byte
}

// TriggerKey is "namespace/trigger".
func (l Letter) TriggerKey() string { return l.Namespace + "/" + l.Trigger }

// Filter selects dead letters; empty fields match all.
type Filter struct {
	Namespace string
	Broker    string
	// Trigger is a trigger name in Namespace (or in any namespace when Namespace is empty).
	Trigger string
	// ID is a CloudEvent id.
	ID string
}

func (f Filter) match(l *Letter) bool {
	return (f.Namespace == "" || f.Namespace == l.Namespace) && (f.Broker == "" || f.Broker == l.Broker) &&
		(f.Trigger == "" || f.Trigger == l.Trigger) && (f.ID == "" || (l.Event != nil && l.Event.ID() == f.ID))
}

// List returns the dead letters that f selects, stream by stream in stream order.
func List(ctx context.Context, js jetstream.JetStream, f Filter) ([]Letter, error) {
	var out []Letter
	err := each(ctx, js, f, func(l Letter) error {
		out = append(out, l)
		return nil
	})
	return out, err
}

// Replay stores every dead letter that f selects back in its broker stream, addressed
// to the trigger that gave up on it only (the broker's other triggers skip it), and
// removes it from the dead-letter stream once the broker stored it. A letter whose
// trigger has no consumer stays, reported with ErrNoConsumer. done, when not nil, is
// called for each letter with nil or its error. Replay returns how many it replayed
// and every error.
func Replay(ctx context.Context, js jetstream.JetStream, f Filter, done func(Letter, error)) (int, error) {
	consumers := map[string]map[string]bool{} // broker stream → trigger keys with a consumer
	var errs []error
	n := 0
	err := each(ctx, js, f, func(l Letter) error {
		err := replayOne(ctx, js, l, consumers)
		if done != nil {
			done(l, err)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("replaying dead letter %d of %s: %w", l.Seq, l.Stream, err))
			return nil
		}
		n++
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

func replayOne(ctx context.Context, js jetstream.JetStream, l Letter, consumers map[string]map[string]bool) error {
	stream := bus.StreamName(l.Namespace, l.Broker)
	triggers, ok := consumers[stream]
	if !ok {
		var err error
		if triggers, err = triggersOf(ctx, js, stream); err != nil {
			return err
		}
		consumers[stream] = triggers
	}
	if !triggers[l.TriggerKey()] {
		return fmt.Errorf("trigger %s on stream %s: %w", l.TriggerKey(), stream, ErrNoConsumer)
	}
	if _, err := js.PublishMsg(ctx, bus.ReplayMsg(l.Namespace, l.Broker, l.TriggerKey(), l.Seq, l.data)); err != nil {
		return fmt.Errorf("storing in broker stream %s: %w", stream, err)
	}
	s, err := js.Stream(ctx, l.Stream)
	if err != nil {
		return fmt.Errorf("removing replayed dead letter: %w", err)
	}
	if err := s.DeleteMsg(ctx, l.Seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("removing replayed dead letter: %w", err)
	}
	return nil
}

// triggersOf lists the triggers ("namespace/name") with a consumer on a broker stream.
func triggersOf(ctx context.Context, js jetstream.JetStream, stream string) (map[string]bool, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("opening broker stream %s: %w", stream, err)
	}
	out := map[string]bool{}
	infos := s.ListConsumers(ctx)
	for ci := range infos.Info() {
		if key, ok := strings.CutPrefix(ci.Config.Description, "flint trigger "); ok && strings.HasPrefix(ci.Name, bus.ConsumerPrefix) {
			out[key] = true
		}
	}
	if err := infos.Err(); err != nil {
		return nil, fmt.Errorf("listing consumers of %s: %w", stream, err)
	}
	return out, nil
}

// each calls fn for every dead letter f selects, reading each dead-letter stream with
// an ordered consumer up to its last message at the time of the call.
func each(ctx context.Context, js jetstream.JetStream, f Filter, fn func(Letter) error) error {
	names := js.StreamNames(ctx, jetstream.WithStreamListSubject("flint.deadletter.>"))
	var streams []string
	for name := range names.Name() {
		streams = append(streams, name)
	}
	if err := names.Err(); err != nil {
		return fmt.Errorf("listing dead-letter streams: %w", err)
	}
	for _, name := range streams {
		if err := eachIn(ctx, js, name, f, fn); err != nil {
			return err
		}
	}
	return nil
}

func eachIn(ctx context.Context, js jetstream.JetStream, name string, f Filter, fn func(Letter) error) error {
	s, err := js.Stream(ctx, name)
	if err != nil {
		return fmt.Errorf("opening dead-letter stream %s: %w", name, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return fmt.Errorf("reading dead-letter stream %s: %w", name, err)
	}
	if info.State.Msgs == 0 {
		return nil
	}
	last := info.State.LastSeq
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return fmt.Errorf("reading dead-letter stream %s: %w", name, err)
	}
	defer func() { _ = s.DeleteConsumer(context.WithoutCancel(ctx), cons.CachedInfo().Name) }()
	for {
		msg, err := cons.Next(jetstream.FetchMaxWait(fetchWait))
		if errors.Is(err, jetstream.ErrNoMessages) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading dead-letter stream %s: %w", name, err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("reading dead-letter stream %s: %w", name, err)
		}
		l := letterOf(name, msg, meta)
		if f.match(&l) {
			if err := fn(l); err != nil {
				return err
			}
		}
		if meta.Sequence.Stream >= last || meta.NumPending == 0 {
			return nil
		}
	}
}

func letterOf(stream string, msg jetstream.Msg, meta *jetstream.MsgMetadata) Letter {
	h := msg.Headers()
	l := Letter{
		Stream:     stream,
		Seq:        meta.Sequence.Stream,
		Time:       meta.Timestamp,
		Subscriber: h.Get(bus.HeaderSubscriber),
		Error:      h.Get(bus.HeaderError),
		data:       msg.Data(),
	}
	l.Code, _ = strconv.Atoi(h.Get(bus.HeaderErrorCode))
	l.Attempts, _ = strconv.Atoi(h.Get(bus.HeaderAttempts))
	// Subject: flint.deadletter.<namespace>.<broker>.<trigger>
	if parts := strings.SplitN(msg.Subject(), ".", 5); len(parts) == 5 {
		l.Namespace, l.Broker = parts[2], parts[3]
	}
	if ns, name, ok := strings.Cut(h.Get(bus.HeaderTrigger), "/"); ok {
		l.Namespace, l.Trigger = ns, name
	}
	if ev, err := wire.Decode(l.data); err == nil {
		wire.RemoveTTL(ev)
		l.Event = ev
	}
	return l
}
