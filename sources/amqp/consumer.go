package amqp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/sources/filter"
	"github.com/flintevents/flint/sources/pull"
)

// Connection settings: Argo's heartbeat and locale, and the bounds flint adds.
const (
	heartbeat = 10 * time.Second
	locale    = "en_US"
	// handshakeTimeout bounds connecting when the dial's context has no
	// deadline.
	handshakeTimeout = 30 * time.Second
	// closeTimeout bounds closing a connection.
	closeTimeout = 5 * time.Second
)

// entry is one named entry of an EventSource's amqp key, ready to dial.
type entry struct {
	name    string
	cfg     *config
	log     *zap.Logger
	metrics *metrics.SourceEvent
}

// dial connects, declares the exchange, queue and binding and starts
// consuming with manual acknowledgement; everything it does is bounded by
// ctx, and nothing stays open when it fails.
func (e *entry) dial(ctx context.Context) (pull.Consumer, error) {
	url, err := e.url()
	if err != nil {
		return nil, err
	}
	cfg := amqp091.Config{
		Heartbeat:       heartbeat,
		Locale:          locale,
		TLSClientConfig: e.cfg.tls.Clone(), // the client sets its ServerName
		Dial:            dialer(ctx),
	}
	if a := e.cfg.auth; a != nil {
		cfg.SASL = []amqp091.Authentication{&amqp091.PlainAuth{Username: a.Username, Password: a.Password}}
	}
	conn, err := amqp091.DialConfig(url, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the broker: %w", err)
	}
	// The declarations below wait on the broker without a context: closing
	// the connection when ctx ends makes them return.
	stop := context.AfterFunc(ctx, func() { _ = conn.CloseDeadline(time.Now().Add(closeTimeout)) })
	c, err := e.setUp(conn)
	if !stop() || err != nil {
		_ = conn.CloseDeadline(time.Now().Add(closeTimeout))
		if err == nil {
			err = ctx.Err()
		}
		return nil, err
	}
	return c, nil
}

// url is the entry's url; with `tls` set, an amqp:// url is connected to
// with TLS on the same port, as the user asked for TLS.
func (e *entry) url() (string, error) {
	u, err := amqp091.ParseURI(e.cfg.url)
	if err != nil {
		return "", fmt.Errorf("reading the url: %w", err)
	}
	if e.cfg.tls != nil && u.Scheme == "amqp" {
		u.Scheme = "amqps"
		return u.String(), nil
	}
	return e.cfg.url, nil
}

// dialer opens the TCP connection within ctx, and bounds the AMQP handshake
// by ctx's deadline (the client clears it once connected).
func dialer(ctx context.Context) func(network, addr string) (net.Conn, error) {
	return func(network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		deadline, ok := ctx.Deadline()
		if !ok {
			deadline = time.Now().Add(handshakeTimeout)
		}
		if err := c.SetDeadline(deadline); err != nil {
			_ = c.Close()
			return nil, err
		}
		return c, nil
	}
}

// setUp declares on a new channel of conn what the entry asks for, as Argo
// does (exchange, queue, binding), sets the prefetch and starts consuming.
func (e *entry) setUp(conn *amqp091.Connection) (*consumer, error) {
	cfg := e.cfg
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("opening a channel: %w", err)
	}
	if err := ch.Qos(InFlight, 0, false); err != nil {
		return nil, fmt.Errorf("setting the prefetch count: %w", err)
	}
	x := cfg.exDecl
	if err := ch.ExchangeDeclare(cfg.exchange, cfg.kind, x.Durable, x.AutoDelete, x.Internal, x.NoWait, nil); err != nil {
		return nil, fmt.Errorf("declaring exchange %q of type %q: %w", cfg.exchange, cfg.kind, err)
	}
	qd := cfg.qDecl
	q, err := ch.QueueDeclare(qd.Name, qd.Durable, qd.AutoDelete, qd.Exclusive, qd.NoWait, cfg.qArgs)
	if err != nil {
		return nil, fmt.Errorf("declaring queue %q: %w", qd.Name, err)
	}
	if err := ch.QueueBind(q.Name, cfg.key, cfg.exchange, cfg.bind.NoWait, nil); err != nil {
		return nil, fmt.Errorf("binding queue %q to exchange %q with routing key %q: %w", q.Name, cfg.exchange, cfg.key, err)
	}
	c := &consumer{
		entry:    e,
		conn:     conn,
		ch:       ch,
		queue:    q.Name,
		connDone: conn.NotifyClose(make(chan *amqp091.Error, 1)),
		chDone:   ch.NotifyClose(make(chan *amqp091.Error, 1)),
	}
	co := cfg.consume
	// Never autoAck: a message is acknowledged once its event is stored.
	c.deliveries, err = ch.Consume(q.Name, co.ConsumerTag, false, co.Exclusive, co.NoLocal, co.NoWait, nil)
	if err != nil {
		return nil, fmt.Errorf("consuming queue %q: %w", q.Name, err)
	}
	e.log.Debug("consuming", zap.String("queue", q.Name), zap.String("exchange", cfg.exchange), zap.String("routingKey", cfg.key))
	return c, nil
}

// consumer is one connection consuming an entry's queue.
type consumer struct {
	*entry
	conn       *amqp091.Connection
	ch         *amqp091.Channel
	queue      string
	deliveries <-chan amqp091.Delivery
	connDone   chan *amqp091.Error
	chDone     chan *amqp091.Error
}

var (
	_ pull.Consumer   = (*consumer)(nil)
	_ pull.Backlogger = (*consumer)(nil)
)

// Receive waits for a delivery and returns it with the deliveries already
// there, up to the prefetch count.
func (c *consumer) Receive(ctx context.Context) ([]pull.Message, error) {
	var msgs []pull.Message
	select {
	case d, ok := <-c.deliveries:
		if !ok {
			return nil, c.lost()
		}
		msgs = c.take(ctx, msgs, &d)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for len(msgs) < InFlight {
		select {
		case d, ok := <-c.deliveries:
			if !ok {
				// The next Receive reports the loss; these are emitted,
				// and their redelivery dropped under the same ids.
				return msgs, nil
			}
			msgs = c.take(ctx, msgs, &d)
		default:
			return msgs, nil
		}
	}
	return msgs, nil
}

// take appends d's message to msgs, unless it cannot be an event (a body
// that is not JSON under jsonBody: rejected) or the filter drops it
// (acknowledged, as Argo does).
func (c *consumer) take(ctx context.Context, msgs []pull.Message, d *amqp091.Delivery) []pull.Message {
	id := naturalID(c.name, d)
	b, err := data(d, c.cfg.jsonBody, c.cfg.metadata)
	if err != nil {
		c.log.Error("rejecting a message that cannot be an event", zap.String("id", id), zap.Error(err))
		if err := d.Reject(false); err != nil {
			c.log.Debug("rejecting", zap.String("id", id), zap.Error(err))
		}
		return msgs
	}
	if f := c.cfg.filter; f != nil {
		// Not cut short by ctx (Receive's, which drain mode bounds by its
		// idle time): a filter that fails drops and acknowledges the
		// message, so only its own time limit may end it.
		if pass, err := f.MatchContext(context.WithoutCancel(ctx), b, filter.DefaultTimeout); !pass {
			c.metrics.Filtered()
			reason := "expression is false"
			if err != nil {
				reason = err.Error()
			}
			c.log.Debug("event dropped by filter", zap.String("id", id), zap.String("filter", f.String()), zap.String("reason", reason))
			if err := d.Ack(false); err != nil {
				c.log.Debug("acknowledging a filtered message", zap.String("id", id), zap.Error(err))
			}
			return msgs
		}
	}
	return append(msgs, pull.Message{ID: id, Data: b, Ref: d.DeliveryTag})
}

// lost is the error of a consumer whose deliveries ended: the broker's
// reason when it gave one.
func (c *consumer) lost() error {
	for _, done := range []chan *amqp091.Error{c.chDone, c.connDone} {
		select {
		case e, ok := <-done:
			if ok && e != nil {
				return fmt.Errorf("the broker closed the consumer: %w", e)
			}
		default:
		}
	}
	return errors.New("the broker closed the consumer")
}

// Ack acknowledges one message (basic.ack).
func (c *consumer) Ack(_ context.Context, m pull.Message) error {
	return c.ch.Ack(m.Ref.(uint64), false)
}

// Nack hands one message back to the queue (basic.nack with requeue).
func (c *consumer) Nack(_ context.Context, m pull.Message) error {
	return c.ch.Nack(m.Ref.(uint64), false, true)
}

// Close closes the connection; the broker requeues what is unacknowledged.
func (c *consumer) Close() error {
	err := c.conn.CloseDeadline(time.Now().Add(closeTimeout))
	if errors.Is(err, amqp091.ErrClosed) {
		return nil
	}
	return err
}

// Backlog is the queue's count of ready messages, from a passive declare on
// a channel of its own (a failed one closes its channel).
func (c *consumer) Backlog(ctx context.Context) (int64, error) {
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		ch, err := c.conn.Channel()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer func() { _ = ch.Close() }()
		q, err := ch.QueueDeclarePassive(c.queue, false, false, false, false, nil)
		done <- result{n: q.Messages, err: err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return 0, fmt.Errorf("counting queue %q: %w", c.queue, r.err)
		}
		return int64(r.n), nil
	case <-ctx.Done():
		// The declare returns at the latest when the connection closes.
		return 0, ctx.Err()
	}
}
