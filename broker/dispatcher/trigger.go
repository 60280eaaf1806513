package dispatcher

import (
	"net/url"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/flintevents/flint/broker/filter"
	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/pkg/metrics"
)

// Broker names a broker whose stream the dispatcher owns.
type Broker struct {
	Namespace string
	Name      string
}

// Trigger is a resolved Knative Trigger: which broker it reads, which events it wants,
// where and how they are delivered.
type Trigger struct {
	Namespace string
	Name      string
	// UID tells a re-created trigger apart from its predecessor of the same name; may be empty.
	UID string
	// Broker is the name of the broker, in the trigger's namespace.
	Broker string
	// Subscriber receives the events, as spec.subscriber.uri.
	Subscriber *url.URL
	// Filter selects the events; nil matches all.
	Filter filter.Filter
	// Delivery is the trigger's DeliverySpec, else its broker's.
	Delivery Delivery
}

func (t *Trigger) key() string { return t.Namespace + "/" + t.Name }

func (t *Trigger) consumerName() string { return bus.ConsumerName(t.Namespace, t.Name, t.UID) }

func (t *Trigger) retryConsumerName() string {
	return bus.RetryConsumerName(t.Namespace, t.Name, t.UID)
}

func (t *Trigger) retrySubject() string { return bus.RetrySubject(t.Namespace, t.Broker, t.Name) }

func (t *Trigger) stream() string { return bus.StreamName(t.Namespace, t.Broker) }

func (t *Trigger) subject() string { return bus.Subject(t.Namespace, t.Broker) }

func (t *Trigger) deadLetterStream() string { return bus.DeadLetterStreamName(t.Namespace, t.Broker) }

// triggerState is what a consumer loop reads per event; it is replaced as a whole when
// the trigger changes.
type triggerState struct {
	Trigger
	timeout time.Duration
	ackWait time.Duration
	// metrics counts the trigger's deliveries; nil counts nothing.
	metrics *metrics.BrokerTarget
	// local is the subscriber when it runs in this process; nil posts over HTTP.
	local LocalSubscriber
	// keeper keeps the tail of the trigger's broker stream; nil when there is none.
	keeper *keeper
}

// consumerConfig is the durable pull consumer of a trigger. DeliverPolicy is New: a trigger
// created on an existing broker receives the events that arrive after it, not the backlog,
// as a Knative subscriber expects. Retries are explicit NakWithDelay, so no BackOff list is
// set, and MaxDeliver is unlimited: the dispatcher counts attempts itself and moves an
// event it gives up on to a dead-letter sink or stream, so JetStream never drops one.
// MaxAckPending equals the delivery workers, so a fetched event never waits for a worker
// (unreported) beyond AckWait.
func (s *triggerState) consumerConfig(concurrency int) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       s.consumerName(),
		Description:   "flint trigger " + s.key(),
		DeliverPolicy: jetstream.DeliverNewPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.ackWait,
		MaxDeliver:    -1,
		MaxAckPending: concurrency,
		FilterSubject: s.subject(),
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
	}
}

// retryConsumerConfig is the durable pull consumer of a trigger's retry lane: the
// events it failed to deliver, each stored again on RetrySubject with the time its
// backoff ends. It hands out at most pending of them at once (waiting for their time,
// waiting for a delivery slot, or being delivered); the others wait in the stream.
// DeliverPolicy All: an event moved to the lane before the consumer was re-created is
// retried all the same.
func (s *triggerState) retryConsumerConfig(pending int) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       s.retryConsumerName(),
		Description:   "flint retries of trigger " + s.key(),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.ackWait,
		MaxDeliver:    -1,
		MaxAckPending: pending,
		FilterSubject: s.retrySubject(),
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
	}
}
