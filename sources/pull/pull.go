// Package pull runs the queue-like event sources (kafka, amqp, mqtt, nats,
// redis, redisStream, nsq, …): a source type writes only its client, as a
// Consumer, and the runner here turns each message into an event, emits it
// and acknowledges it at the origin only after the broker stored it.
//
// Guarantees a source gets from Run and Drain:
//   - a message is acknowledged (Consumer.Ack) only after the emitter returned
//     nil for its event; a message whose event was not stored is handed back
//     (Consumer.Nack) or left for the origin to redeliver, never acknowledged;
//   - the event id is the message's natural id (Message.ID), so the broker's
//     dedupe window drops the redeliveries this at-least-once scheme makes;
//   - at most Options.InFlight messages are being emitted at once;
//   - when the context ends, emits in flight are cancelled, the acks of the
//     events already stored are still sent (each within Options.AckTimeout),
//     and Run returns once every message is settled;
//   - a consumer whose Receive fails is closed and dialed again, waiting as
//     Options.Reconnect says.
//
// Order: events are emitted concurrently, so the broker may store them out of
// the origin's order. With Options.Ordered (acknowledgements that are
// cumulative, as a kafka offset commit), acks are sent in the order messages
// were received within each Message.Lane, a message is never acknowledged
// before every earlier message of its lane was stored, and a failed emit is
// retried in place until it is stored or the source stops, holding up the
// acks of its lane (never those of other lanes). Without Ordered, each message
// is acknowledged on its own as soon as it is stored, and one whose emit keeps
// failing is handed back after Options.Attempts tries, so it cannot hold up
// the others.
package pull

import (
	"context"
	"time"
)

// Message is one message a Consumer received.
type Message struct {
	// ID is the message's natural id at the origin, stable across
	// redeliveries (`topic/partition/offset`, a stream entry id, a message
	// id); it becomes the event id, so the broker drops a redelivered copy.
	// An empty ID lets the host mint one, and redeliveries are then stored
	// twice.
	ID string
	// Data is the Argo event data of the message, JSON.
	Data []byte
	// Time is when the origin took the message; the host's clock when zero.
	Time time.Time
	// Extensions are extra CloudEvent extension attributes; nil for none.
	Extensions map[string]string
	// Lane groups the messages whose acknowledgements are ordered (a kafka
	// topic/partition); read only with Options.Ordered. "" is one lane.
	Lane string
	// Ref is what the consumer needs to acknowledge the message (a delivery
	// tag, a record); the runner only hands it back to Ack and Nack.
	Ref any
}

// Consumer is one connection to an origin, made by a Dial. The runner calls
// Receive from one goroutine, and Ack and Nack from many at once.
type Consumer interface {
	// Receive blocks until at least one message is there, and returns the
	// messages it has; it returns ctx's error once ctx ends. It may return an
	// empty batch and a nil error after a poll that found nothing. Any other
	// error means the connection is lost: the runner closes the consumer and
	// dials again. Messages delivered but not returned, or returned but never
	// acknowledged, must come back after Close (the origin redelivers them).
	Receive(ctx context.Context) ([]Message, error)
	// Ack tells the origin the message is stored and must not come back.
	// With Options.Ordered it is called in receive order within a lane.
	Ack(ctx context.Context, m Message) error
	// Nack hands a message whose event was not stored back to the origin so
	// it comes back soon (requeue, a zero visibility timeout). A consumer
	// whose origin has no negative acknowledgement leaves the message and
	// returns nil: the origin redelivers it after its own timeout or after
	// Close (a redis stream's pending entries, read again on start).
	Nack(ctx context.Context, m Message) error
	// Close ends the connection; unacknowledged messages go back to the
	// origin. It is called once, after every Ack and Nack returned.
	Close() error
}

// Backlogger is a Consumer that can count its backlog; Drain asks it when
// nothing arrives, to tell an empty origin from a slow one. A consumer of
// plain publish/subscribe (redis channels, nats core, mqtt) has no backlog and
// does not implement it: Drain takes Options.Idle without a message as empty.
type Backlogger interface {
	// Backlog is how many messages wait for this consumer: not yet delivered,
	// or delivered and not acknowledged (kafka: end offsets minus committed
	// offsets; redis stream: the group's lag plus its pending entries; amqp:
	// a passive queue declare's message count; sqs:
	// ApproximateNumberOfMessages; nats JetStream: the consumer's pending).
	Backlog(ctx context.Context) (int64, error)
}

// Dial connects to the origin; it is called again after a Receive fails. Its
// context carries Options.DialTimeout.
type Dial func(ctx context.Context) (Consumer, error)
