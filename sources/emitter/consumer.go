package emitter

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/conn"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/sources/filter"
	"github.com/flintevents/flint/sources/pull"
)

// Sizes and bounds of a connection.
const (
	// buffered is how many received messages wait for the runner before the
	// client stops reading from the broker.
	buffered = 1024
	// refusalWait bounds the wait for emitter's error message after it
	// refused a subscription, to name the reason.
	refusalWait = 500 * time.Millisecond
	// disconnectQuiesce is how long Close lets the client finish its work.
	disconnectQuiesce = 250
	// keepAlive is the MQTT keep-alive interval.
	keepAlive = 30 * time.Second
)

// subscribeFailed is the SUBACK return code of a refused subscription.
const subscribeFailed = 0x80

// errorTopic is where emitter sends the errors of a client's requests.
const errorTopic = "emitter/error/"

// config is one entry, ready to connect.
type config struct {
	broker   string
	topic    string
	tls      *tls.Config
	auth     conn.BasicAuth
	jsonBody bool
	metadata map[string]string
	filter   *filter.Filter
	log      *zap.Logger
	metrics  *metrics.SourceEvent
}

// consumer is one connection to the broker, subscribed to the entry's
// channel; it implements pull.Consumer.
type consumer struct {
	cfg    *config
	client mqtt.Client

	msgs   chan pull.Message
	errs   chan brokerError // errors emitter reported on errorTopic
	lost   chan struct{}    // closed when the connection is lost
	closed chan struct{}    // closed by Close
	once   sync.Once        // closes lost
	why    error            // why the connection was lost, set before lost closes
}

// brokerError is a message on emitter's error topic.
type brokerError struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

func (e brokerError) Error() string { return fmt.Sprintf("emitter error %d: %s", e.Status, e.Message) }

// dial connects to the broker and subscribes to the channel, within ctx.
func (cfg *config) dial(ctx context.Context) (pull.Consumer, error) {
	c := &consumer{
		cfg:    cfg,
		msgs:   make(chan pull.Message, buffered),
		errs:   make(chan brokerError, 8),
		lost:   make(chan struct{}),
		closed: make(chan struct{}),
	}
	opts := mqtt.NewClientOptions().
		AddBroker(cfg.broker).
		SetClientID(clientID()).
		SetCleanSession(true).
		SetAutoReconnect(false). // the runner dials again, with the entry's backoff
		SetConnectRetry(false).
		SetKeepAlive(keepAlive).
		SetConnectTimeout(timeLeft(ctx)).
		SetWriteTimeout(10 * time.Second).
		SetProtocolVersion(4). // MQTT 3.1.1, what emitter speaks
		SetDefaultPublishHandler(c.onPublish).
		SetConnectionLostHandler(c.onLost)
	if cfg.tls != nil {
		opts.SetTLSConfig(cfg.tls)
	}
	if cfg.auth.Username != "" || cfg.auth.Password != "" {
		opts.SetUsername(cfg.auth.Username).SetPassword(cfg.auth.Password)
	}
	c.client = mqtt.NewClient(opts)
	if err := wait(ctx, c.client.Connect()); err != nil {
		c.client.Disconnect(0)
		return nil, fmt.Errorf("connecting to %s: %w", cfg.broker, err)
	}
	// emitter sends a channel's messages under the channel without the key,
	// which no subscription filter matches: they all reach onPublish.
	tok := c.client.Subscribe(cfg.topic, 0, nil)
	if err := wait(ctx, tok); err != nil {
		c.client.Disconnect(0)
		return nil, fmt.Errorf("subscribing to %s: %w", channelOf(cfg.topic), err)
	}
	if st, ok := tok.(*mqtt.SubscribeToken); ok && st.Result()[cfg.topic] == subscribeFailed {
		err := errors.New("refused by the broker")
		select {
		case be := <-c.errs:
			err = be
		case <-time.After(refusalWait):
		}
		c.client.Disconnect(0)
		return nil, fmt.Errorf("subscribing to %s (check channelKey grants read on it): %w", channelOf(cfg.topic), err)
	}
	cfg.log.Info("subscribed", zap.String("broker", cfg.broker), zap.String("channel", channelOf(cfg.topic)))
	return c, nil
}

// onMessage turns a message of the channel into a pull.Message; it blocks
// while the buffer is full, so the client stops reading from the broker.
func (c *consumer) onMessage(_ mqtt.Client, m mqtt.Message) {
	data, err := eventData(m.Topic(), m.Payload(), c.cfg.jsonBody, c.cfg.metadata)
	if errors.Is(err, errNotJSON) {
		c.cfg.log.Warn("jsonBody is set but the body is not JSON; emitting it as a JSON string", zap.String("topic", m.Topic()))
	} else if err != nil {
		c.cfg.log.Error("encoding the event data", zap.Error(err))
		c.cfg.metrics.Failed()
		return
	}
	c.cfg.metrics.Received()
	if c.cfg.filter != nil {
		ok, ferr := c.cfg.filter.Match(data)
		if ferr != nil {
			c.cfg.log.Warn("evaluating the filter expression; the event is dropped", zap.Error(ferr))
		}
		if !ok {
			c.cfg.metrics.Filtered()
			return
		}
	}
	select {
	case c.msgs <- pull.Message{Data: data}:
	case <-c.closed:
	case <-c.lost:
	}
}

// onPublish receives every message: emitter's own under `emitter/` (its
// errors), and the channel's.
func (c *consumer) onPublish(client mqtt.Client, m mqtt.Message) {
	switch {
	case m.Topic() == errorTopic:
		c.onError(m)
	case strings.HasPrefix(m.Topic(), "emitter/"):
	default:
		c.onMessage(client, m)
	}
}

// onError reads a message on emitter's error topic.
func (c *consumer) onError(m mqtt.Message) {
	var be brokerError
	if err := json.Unmarshal(m.Payload(), &be); err != nil {
		be = brokerError{Message: string(m.Payload())}
	}
	select {
	case c.errs <- be:
	default:
	}
	c.cfg.log.Warn("the broker reported an error", zap.Int("status", be.Status), zap.String("message", be.Message))
}

func (c *consumer) onLost(_ mqtt.Client, err error) {
	c.once.Do(func() {
		c.why = err
		close(c.lost)
	})
}

// Receive implements pull.Consumer: it returns the messages waiting, or
// blocks until one arrives, the connection is lost or ctx ends.
func (c *consumer) Receive(ctx context.Context) ([]pull.Message, error) {
	var first pull.Message
	select {
	case first = <-c.msgs:
	case <-c.lost:
		return nil, fmt.Errorf("connection to %s lost: %w", c.cfg.broker, c.why)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	out := []pull.Message{first}
	for len(out) < buffered {
		select {
		case m := <-c.msgs:
			out = append(out, m)
		default:
			return out, nil
		}
	}
	return out, nil
}

// Ack implements pull.Consumer; emitter delivers at QoS 0, so there is
// nothing to acknowledge.
func (c *consumer) Ack(context.Context, pull.Message) error { return nil }

// Nack implements pull.Consumer; emitter cannot take a message back (the
// runner emits a refused event until stored: the entry's Attempts has no
// bound, so Nack is reached only when the source stops).
func (c *consumer) Nack(context.Context, pull.Message) error { return nil }

// Close implements pull.Consumer: it disconnects; messages buffered and not
// yet received are lost, as emitter keeps none for a gone subscriber.
func (c *consumer) Close() error {
	close(c.closed)
	if c.client.IsConnectionOpen() {
		c.client.Disconnect(disconnectQuiesce)
	}
	return nil
}

// wait waits for t within ctx.
func wait(ctx context.Context, t mqtt.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// timeLeft is the time until ctx's deadline, or 30s without one.
func timeLeft(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return 30 * time.Second
}

// channelOf is the channel part of a topic (without the key), for messages.
func channelOf(topic string) string {
	for i := range len(topic) {
		if topic[i] == '/' {
			return topic[i+1:]
		}
	}
	return topic
}

// clientID is a fresh MQTT client id: emitter keeps no session, so each
// connection is a new client.
func clientID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "flint-" + hex.EncodeToString(b)
}
