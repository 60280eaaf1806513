// Package amqp is the `amqp` event source type: every named entry of an
// EventSource's spec.amqp connects to a RabbitMQ (AMQP 0-9-1) broker,
// declares its exchange, queue and binding as Argo Events does, consumes the
// queue and emits one event per message with Argo's event data
// (`{"contentType","contentEncoding","deliveryMode","priority",
// "correlationId","replyTo","expiration","messageId","timestamp","type",
// "appId","exchange","routingKey","body","metadata"}`, the body base64
// encoded unless `jsonBody`). It runs on sources/pull.
//
// Acknowledgement. A message is acknowledged (basic.ack) only after the
// broker stored its event, and handed back with basic.nack and requeue when
// the event was not stored, so nothing the queue held is lost. Argo Events
// consumes with `consume.autoAck`, true by default: the broker forgets each
// message as it is delivered, before it is published, and one that fails to
// publish is lost; with `autoAck: false` Argo never acknowledges at all, and
// every message comes back when the connection closes. flint always
// consumes with manual acknowledgement and reads `autoAck` (true or false)
// as "acknowledge once stored". The channel's prefetch (basic.qos) is the
// runner's InFlight, so the broker never hands out more messages than the
// runner emits at once.
//
// Event id. The id is the message's natural id, so the broker's dedupe
// window drops the copy a redelivery makes (a message stored, then not
// acknowledged because the source stopped). It is `<entry>/id/<messageId>`
// when the publisher set a message id, and otherwise
// `<entry>/hash/<digest>`, a SHA-256 of what the publisher sent and the
// broker keeps across redeliveries: exchange, routing key, every property
// (the headers without the x-delivery-count that quorum queues add) and the
// body. The delivery tag is not used: it numbers deliveries on one channel,
// so a redelivered message gets a new one, and a new channel starts again
// from 1, which would give two messages the same id. The digest's limit is
// that two messages identical in every property and byte, with no message
// id and no timestamp, sent within the dedupe window, are one event;
// publishers that send such repeats and want each set a message id or a
// timestamp. The entry name is part of the id because two entries of one
// EventSource may read copies of one message from two queues.
//
// Other deviations from Argo: the connection is retried with
// `connectionBackoff`'s waits for as long as the source runs (Argo gives up
// after its steps and restarts the listener at most 10 times); with `steps`
// set, flint gives up after that many failures in a row. `tls` with an
// `amqp://` url connects with TLS (the client would otherwise ignore it).
// `queueDeclare.arguments` is YAML or JSON as in Argo, its whole numbers
// sent as integers (RabbitMQ refuses `x-max-length` as a float); arguments
// that are not a map are refused by New, where Argo fails at connect. A
// message whose body is not JSON under `jsonBody` cannot be an event: it is
// rejected without requeue (dead-lettered when the queue has a dead-letter
// exchange) and logged, where Argo drops it. A message `filter.expression`
// drops is acknowledged, as Argo does. The timestamp is printed in UTC
// (Argo prints it in the pod's zone, UTC in its images).
//
// Drain mode counts the backlog with a passive queue declare: the queue's
// ready messages.
package amqp

import (
	"fmt"

	"go.uber.org/zap"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/pull"
)

// Type is the EventSource type key, and the CloudEvent type, of amqp events.
const Type = v1alpha1.TypeAMQP

func init() { sources.Register(Type, sources.Pull, New, sources.KeepsBacklog()) }

// New builds the source of es's amqp entries: it checks each entry and reads
// its secrets (urlSecret, auth, tls), connecting to nothing. Problems are
// *apis.FieldError under `spec.amqp[<name>]`.
func New(es *v1alpha1.EventSource, deps sources.Deps) (sources.Source, error) {
	if es != nil && len(es.Spec.AMQP) == 0 {
		return nil, fmt.Errorf("%s: eventsource %s has no spec.%s entries", Type, es.Name, Type)
	}
	ctx, cancel := secretContext()
	defer cancel()
	src, err := pull.Build(es, Type, deps, func(name string, log *zap.Logger) (pull.Entry, *apis.FieldError) {
		spec := es.Spec.AMQP[name]
		cfg, ferr := resolve(ctx, &spec, deps.Secrets)
		if ferr != nil {
			return pull.Entry{}, ferr
		}
		e := &entry{
			name:    name,
			cfg:     cfg,
			log:     log,
			metrics: deps.Metrics.Event(es.Name, name),
		}
		return pull.Entry{Dial: e.dial, Options: pull.Options{InFlight: InFlight, Reconnect: cfg.reconnect}}, nil
	})
	if err != nil {
		return nil, err
	}
	return src, nil
}

// InFlight is how many messages of one entry are emitted at once, and the
// channel's prefetch count.
const InFlight = pull.DefaultInFlight
