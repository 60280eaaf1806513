package redisstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/flintevents/flint/sources/filter"
	"github.com/flintevents/flint/sources/pull"
)

// RedoWait is how long a message handed back (Nack) waits before it is
// emitted again on the same connection.
const RedoWait = 500 * time.Millisecond

// consumer is one connection of an entry: its client, and per stream whether
// its pending entries are still being read.
type consumer struct {
	cfg    *config
	client *redis.Client
	// cursor is, per stream still reading its pending entries, the id after
	// which to read on; a stream not in it reads new entries (`>`).
	cursor map[string]string

	mu   sync.Mutex
	redo []pull.Message // handed back, still pending, to emit again
}

var (
	_ pull.Consumer   = (*consumer)(nil)
	_ pull.Backlogger = (*consumer)(nil)
)

// ref is what Ack needs: the stream of the entry and its id.
type ref struct {
	stream, id string
}

// dial connects, creates the group on each stream where it is missing, and
// starts with the pending entries of every stream.
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
	cursor := make(map[string]string, len(c.streams))
	for _, s := range c.streams {
		err := client.XGroupCreateMkStream(ctx, s, c.group, "0").Err()
		if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
			_ = client.Close()
			return nil, fmt.Errorf("creating consumer group %s on stream %s: %w", c.group, s, err)
		}
		cursor[s] = "0"
	}
	return &consumer{cfg: c, client: client, cursor: cursor}, nil
}

// Receive returns the messages handed back first, then the pending entries
// of a stream that has some left, then new entries of every stream.
func (c *consumer) Receive(ctx context.Context) ([]pull.Message, error) {
	if redo := c.takeRedo(); len(redo) > 0 {
		t := time.NewTimer(RedoWait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			c.handBack(redo)
			return nil, ctx.Err()
		case <-t.C:
		}
		return redo, nil
	}
	for _, s := range c.cfg.streams {
		if after, ok := c.cursor[s]; ok {
			return c.readPending(ctx, s, after)
		}
	}
	return c.read(ctx, ">", c.cfg.streams...)
}

// readPending reads the stream's pending entries after id; none left
// switches the stream to new entries.
func (c *consumer) readPending(ctx context.Context, stream, after string) ([]pull.Message, error) {
	msgs, err := c.read(ctx, after, stream)
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		delete(c.cursor, stream)
		return nil, nil
	}
	c.cursor[stream] = msgs[len(msgs)-1].Ref.(ref).id
	return msgs, nil
}

// read is one XREADGROUP of streams from id: `>` blocks for Block, any other
// id reads pending entries without blocking.
func (c *consumer) read(ctx context.Context, id string, streams ...string) ([]pull.Message, error) {
	args := make([]string, 0, 2*len(streams))
	args = append(args, streams...)
	for range streams {
		args = append(args, id)
	}
	block := time.Duration(-1)
	if id == ">" {
		block = Block
	}
	res, err := c.client.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: c.cfg.group, Consumer: Consumer, Streams: args, Count: c.cfg.count, Block: block,
	}).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, nil
	case err != nil:
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("reading streams %v of group %s: %w", streams, c.cfg.group, err)
	}
	var out []pull.Message
	for _, st := range res {
		for _, m := range st.Messages {
			if m.Values == nil {
				continue // pending, but deleted from the stream since: nothing to emit
			}
			msg, keep, err := c.message(ctx, st.Stream, m)
			if err != nil {
				c.cfg.log.Error("entry dropped: its event data cannot be built", zap.String("stream", st.Stream), zap.String("id", m.ID), zap.Error(err))
				continue
			}
			if !keep {
				c.cfg.filtered.Filtered()
				if err := c.ack(ctx, st.Stream, m.ID); err != nil {
					return nil, err
				}
				continue
			}
			out = append(out, msg)
		}
	}
	return out, nil
}

// message is the pull message of one stream entry, and whether the filter
// keeps it.
func (c *consumer) message(ctx context.Context, stream string, m redis.XMessage) (pull.Message, bool, error) {
	data, err := c.cfg.data(stream, m.ID, m.Values)
	if err != nil {
		return pull.Message{}, false, err
	}
	if f := c.cfg.filter; f != nil {
		if pass, ferr := f.MatchContext(ctx, data, filter.DefaultTimeout); !pass {
			c.cfg.log.Debug("entry dropped by filter", zap.String("stream", stream), zap.String("id", m.ID), zap.Error(ferr))
			return pull.Message{}, false, nil
		}
	}
	return pull.Message{
		ID:   stream + "/" + m.ID,
		Data: data,
		Time: entryTime(m.ID),
		Ref:  ref{stream: stream, id: m.ID},
	}, true, nil
}

// Ack acknowledges the entry in the group (XACK).
func (c *consumer) Ack(ctx context.Context, m pull.Message) error {
	r := m.Ref.(ref)
	return c.ack(ctx, r.stream, r.id)
}

func (c *consumer) ack(ctx context.Context, stream, id string) error {
	if err := c.client.XAck(ctx, stream, c.cfg.group, id).Err(); err != nil {
		return fmt.Errorf("acknowledging entry %s of stream %s: %w", id, stream, err)
	}
	return nil
}

// Nack keeps the entry pending and emits it again after RedoWait; should
// the connection end first, the pending entries are read again on the next.
func (c *consumer) Nack(_ context.Context, m pull.Message) error {
	c.handBack([]pull.Message{m})
	return nil
}

func (c *consumer) handBack(ms []pull.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.redo = append(c.redo, ms...)
}

func (c *consumer) takeRedo() []pull.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.redo
	c.redo = nil
	return r
}

// Backlog is, over the streams, this consumer's pending entries plus the
// group's lag (entries not yet delivered to the group). Where the server
// reports no lag (before Redis 7, or after deletions), a stream with any
// entry after the group's last delivered one counts 1.
func (c *consumer) Backlog(ctx context.Context) (int64, error) {
	var n int64
	for _, s := range c.cfg.streams {
		consumers, err := c.client.XInfoConsumers(ctx, s, c.cfg.group).Result()
		if err != nil {
			return 0, fmt.Errorf("reading the consumers of group %s on stream %s: %w", c.cfg.group, s, err)
		}
		for _, k := range consumers {
			if k.Name == Consumer {
				n += k.Pending
			}
		}
		groups, err := c.client.XInfoGroups(ctx, s).Result()
		if err != nil {
			return 0, fmt.Errorf("reading the groups of stream %s: %w", s, err)
		}
		for _, g := range groups {
			if g.Name != c.cfg.group {
				continue
			}
			if g.Lag > 0 {
				n += g.Lag
				continue
			}
			after, err := c.client.XRangeN(ctx, s, "("+g.LastDeliveredID, "+", 1).Result()
			if err != nil {
				return 0, fmt.Errorf("reading stream %s after %s: %w", s, g.LastDeliveredID, err)
			}
			n += int64(len(after))
		}
	}
	return n, nil
}

// Close closes the client; unacknowledged entries stay pending.
func (c *consumer) Close() error { return c.client.Close() }
