package mqtt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/zap"

	"github.com/flintevents/flint/sources/pull"
)

// Connection settings of every dial.
const (
	keepAlive    = 30 * time.Second
	pingTimeout  = 10 * time.Second
	writeTimeout = 10 * time.Second
	// quiesce is how long Close lets paho finish sending what it queued
	// (the last PUBACKs), in milliseconds.
	quiesce = 250
	// buffered is how many delivered messages wait for Receive; the broker's
	// in-flight window (mosquitto: 20) keeps fewer in the way.
	buffered = 256
	// batch bounds the messages one Receive returns.
	batch = 64
	// syncTopic is a topic filter no entry subscribes to, whose UNSUBSCRIBE
	// round trip tells that the broker read every PUBACK sent before it.
	syncTopic = "$flint/no-subscription"
	// syncTimeout bounds that round trip.
	syncTimeout = 2 * time.Second
)

// subscribeFailure is the granted QoS of a refused subscription.
const subscribeFailure = 0x80

// consumer is one MQTT connection of an entry, subscribed to its topic.
type consumer struct {
	e      *entry
	client paho.Client
	sub    paho.Token // the SUBSCRIBE until its answer is checked
	msgs   chan paho.Message
	lost   chan error
	done   chan struct{}
	once   sync.Once
}

// dial connects with the entry's client id and a persistent session,
// subscribes to its topic at QoS 1, and returns the consumer.
func (e *entry) dial(ctx context.Context) (pull.Consumer, error) {
	c := &consumer{
		e:    e,
		msgs: make(chan paho.Message, buffered),
		lost: make(chan error, 1),
		done: make(chan struct{}),
	}
	o := paho.NewClientOptions().
		AddBroker(e.spec.URL).
		SetClientID(e.spec.ClientID).
		SetCleanSession(false).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(true).
		SetAutoAckDisabled(true).
		SetKeepAlive(keepAlive).
		SetPingTimeout(pingTimeout).
		SetWriteTimeout(writeTimeout).
		SetDefaultPublishHandler(c.handle).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			select {
			case c.lost <- err:
			default:
			}
		})
	if deadline, ok := ctx.Deadline(); ok {
		o.SetConnectTimeout(time.Until(deadline))
	}
	if e.tls != nil {
		o.SetTLSConfig(e.tls)
	}
	if e.auth != nil {
		o.SetUsername(e.auth.Username)
		o.SetPassword(e.auth.Password)
	}
	c.client = paho.NewClient(o)
	tok := c.client.Connect()
	if err := wait(ctx, tok); err != nil {
		c.Close()
		return nil, fmt.Errorf("connecting to %s as %q: %w", e.spec.URL, e.spec.ClientID, err)
	}
	if ct, ok := tok.(*paho.ConnectToken); ok && !ct.SessionPresent() {
		e.log.Info("the broker had no session for this client id; it keeps one from now on", zap.String("clientId", e.spec.ClientID))
	}
	// The broker may send what it kept for the session before it answers
	// the SUBSCRIBE, more than the buffer holds: Receive drains them while
	// it waits for the answer, so dial does not wait for it.
	c.sub = c.client.Subscribe(e.spec.Topic, QoS, c.handle)
	return c, nil
}

// subscribed checks the broker's answer to the SUBSCRIBE once it came.
func (c *consumer) subscribed() error {
	tok := c.sub
	c.sub = nil
	if err := tok.Error(); err != nil {
		return fmt.Errorf("subscribing to %q: %w", c.e.spec.Topic, err)
	}
	if st, ok := tok.(*paho.SubscribeToken); ok {
		switch granted := st.Result()[c.e.spec.Topic]; {
		case granted == subscribeFailure:
			return fmt.Errorf("subscribing to %q: the broker refused it", c.e.spec.Topic)
		case granted < QoS:
			c.e.log.Warn("the broker granted QoS 0: messages may be lost", zap.String("topic", c.e.spec.Topic))
		}
	}
	return nil
}

// wait waits for tok to complete or ctx to end.
func wait(ctx context.Context, tok paho.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// handle is paho's handler of every delivery, called in order on paho's
// router; it hands the message to Receive.
func (c *consumer) handle(_ paho.Client, m paho.Message) {
	select {
	case c.msgs <- m:
	case <-c.done:
	}
}

// Receive returns the messages delivered so far, waiting for one.
func (c *consumer) Receive(ctx context.Context) ([]pull.Message, error) {
	var out []pull.Message
	for len(out) == 0 {
		var subscribing <-chan struct{}
		if c.sub != nil {
			subscribing = c.sub.Done()
		}
		select {
		case <-subscribing:
			if err := c.subscribed(); err != nil {
				return nil, err
			}
		case m := <-c.msgs:
			out = append(out, c.message(m))
		case err := <-c.lost:
			return nil, fmt.Errorf("connection lost: %w", err)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	for len(out) < batch {
		select {
		case m := <-c.msgs:
			out = append(out, c.message(m))
		default:
			return out, nil
		}
	}
	return out, nil
}

// message is the pull message of one delivery.
func (c *consumer) message(m paho.Message) pull.Message {
	return pull.Message{
		ID:   c.e.ids.id(m.MessageID(), m.Duplicate(), m.Topic(), m.Payload()),
		Data: eventDataOf(m.Topic(), m.MessageID(), m.Payload(), c.e.spec.JSONBody, c.e.spec.Metadata),
		Ref:  m,
	}
}

// errLost is Ack's error on a lost connection.
var errLost = errors.New("the connection is lost: the broker sends the message again, under the same event id")

// Ack sends the message's PUBACK.
func (c *consumer) Ack(_ context.Context, m pull.Message) error {
	if !c.client.IsConnectionOpen() {
		return errLost
	}
	m.Ref.(paho.Message).Ack()
	return nil
}

// Nack leaves the message: MQTT has no negative acknowledgement, and the
// broker sends an unacknowledged message again on the next connection.
func (c *consumer) Nack(context.Context, pull.Message) error { return nil }

// Close disconnects; the broker keeps what was not acknowledged. Before it
// disconnects, it waits for the answer to an UNSUBSCRIBE of a topic it never
// subscribed to: the broker handles a connection's packets in order, so
// every PUBACK sent before is then handled. Otherwise a broker taking the
// session over for the next connection (mosquitto does, as soon as it reads
// its CONNECT) may drop the last PUBACKs unread, and send their messages
// again to the next process, under new ids.
func (c *consumer) Close() error {
	c.once.Do(func() {
		close(c.done)
		if c.client.IsConnectionOpen() {
			if !c.client.Unsubscribe(syncTopic).WaitTimeout(syncTimeout) {
				c.e.log.Debug("the broker did not answer before disconnecting; the last acknowledgements may be lost")
			}
		}
		c.client.Disconnect(quiesce)
	})
	return nil
}
