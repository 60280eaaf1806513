package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/flintevents/flint/sources"
	"github.com/flintevents/flint/sources/filter"
	"github.com/flintevents/flint/sources/pull"
)

// Sizes of a subscription.
const (
	// Buffer is how many messages the client holds for the source.
	Buffer = 1000
	// MaxBatch bounds the messages one Receive returns.
	MaxBatch = 100
	// RedoWait is how long a message whose event was refused waits before
	// it is emitted again.
	RedoWait = 500 * time.Millisecond
)

// consumer is one subscription of an entry.
type consumer struct {
	cfg    *config
	client *redis.Client
	sub    *redis.PubSub
	ch     <-chan *redis.Message

	mu    sync.Mutex
	redo  []pull.Message // refused, to emit again before new messages
	ready chan struct{}  // signalled when redo gets a message
}

var _ pull.Consumer = (*consumer)(nil)

// dial connects, subscribes to the channels and waits for the server to
// confirm the subscription.
func (c *config) dial(ctx context.Context) (pull.Consumer, error) {
	opts, fe := c.conn.Options(ctx, c.secrets)
	if fe != nil {
		return nil, fe
	}
	client := redis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("connecting to redis at %s db %d: %w", c.conn.HostAddress, c.conn.DB, err)
	}
	sub := client.Subscribe(ctx, c.channels...)
	if _, err := sub.Receive(ctx); err != nil {
		_ = sub.Close()
		_ = client.Close()
		return nil, fmt.Errorf("subscribing to channels %v at %s: %w", c.channels, c.conn.HostAddress, err)
	}
	return &consumer{cfg: c, client: client, sub: sub, ch: sub.Channel(redis.WithChannelSize(Buffer)), ready: make(chan struct{}, 1)}, nil
}

// Receive returns the messages handed back (Nack) after RedoWait, before any
// new one; else it waits for a message and returns it with those already
// there. New messages wait in the client's buffer meanwhile, so what is
// handed back stays bounded by the messages in flight.
func (c *consumer) Receive(ctx context.Context) ([]pull.Message, error) {
	if redo := c.takeRedo(); len(redo) > 0 {
		t := time.NewTimer(RedoWait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
			return redo, nil
		}
	}
	var out []pull.Message
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.ready:
		return nil, nil
	case m, ok := <-c.ch:
		if !ok {
			return nil, errors.New("the subscription ended")
		}
		out = c.add(ctx, out, m)
	}
	for len(out) < MaxBatch {
		select {
		case m, ok := <-c.ch:
			if !ok {
				return out, nil
			}
			out = c.add(ctx, out, m)
		default:
			return out, nil
		}
	}
	return out, nil
}

// add appends the message of m to out unless it cannot be built or the
// filter drops it.
func (c *consumer) add(ctx context.Context, out []pull.Message, m *redis.Message) []pull.Message {
	data, err := c.cfg.data(m.Channel, m.Pattern, m.Payload)
	if err != nil {
		c.cfg.log.Error("message dropped: its event data cannot be built", zap.String("channel", m.Channel), zap.Error(err))
		return out
	}
	if f := c.cfg.filter; f != nil {
		if pass, ferr := f.MatchContext(ctx, data, filter.DefaultTimeout); !pass {
			c.cfg.filtered.Filtered()
			c.cfg.log.Debug("message dropped by filter", zap.String("channel", m.Channel), zap.Error(ferr))
			return out
		}
	}
	return append(out, pull.Message{ID: sources.NewID(), Data: data})
}

// Ack does nothing: pub/sub has no acknowledgement.
func (c *consumer) Ack(context.Context, pull.Message) error { return nil }

// Nack keeps the message to emit again: the server cannot take it back,
// so it is emitted again until stored or the source stops.
func (c *consumer) Nack(_ context.Context, m pull.Message) error {
	c.mu.Lock()
	c.redo = append(c.redo, m)
	c.mu.Unlock()
	select {
	case c.ready <- struct{}{}:
	default:
	}
	return nil
}

func (c *consumer) takeRedo() []pull.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.redo
	c.redo = nil
	return r
}

// Close ends the subscription and the client.
func (c *consumer) Close() error {
	return errors.Join(c.sub.Close(), c.client.Close())
}
