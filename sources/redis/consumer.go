package redis

import (
	"context"
	"errors"
	"fmt"

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
)

// consumer is one subscription of an entry.
type consumer struct {
	cfg    *config
	client *redis.Client
	sub    *redis.PubSub
	ch     <-chan *redis.Message
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
	return &consumer{cfg: c, client: client, sub: sub, ch: sub.Channel(redis.WithChannelSize(Buffer))}, nil
}

// Receive waits for a message and returns it with those already there.
func (c *consumer) Receive(ctx context.Context) ([]pull.Message, error) {
	var out []pull.Message
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
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

// Nack does nothing: a message cannot be handed back; the runner emits a
// refused event again instead (Options.Ordered).
func (c *consumer) Nack(context.Context, pull.Message) error { return nil }

// Close ends the subscription and the client.
func (c *consumer) Close() error {
	return errors.Join(c.sub.Close(), c.client.Close())
}
