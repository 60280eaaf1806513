package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/conn/natsconn"
	"github.com/flintevents/flint/sources/filter"
	"github.com/flintevents/flint/sources/pull"
)

// Bounds of one consumer.
const (
	// PendingMessages is how many delivered messages wait for the runner;
	// past it the client drops them as a slow consumer.
	PendingMessages = 64 * 1024
	// MaxBatch is the most messages one Receive returns.
	MaxBatch = 256
	// ConnectTimeout bounds connecting and subscribing when the dial's
	// context has no deadline.
	ConnectTimeout = 10 * time.Second
)

// consumer is one connection's subscription; a message goes from the
// client's delivery to msgs, and Receive hands it to the runner.
type consumer struct {
	e    *entry
	nc   *natsgo.Conn
	msgs chan *natsgo.Msg
	lost chan struct{} // closed when the connection closes
	once sync.Once
	ids  ids
}

var _ pull.Consumer = (*consumer)(nil)

// dial connects to the entry's server and subscribes; the subscription is
// known to the server when it returns.
func (e *entry) dial(ctx context.Context) (pull.Consumer, error) {
	timeout := ConnectTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	c := &consumer{e: e, msgs: make(chan *natsgo.Msg, PendingMessages), lost: make(chan struct{})}
	if err := c.ids.seed(); err != nil {
		return nil, err
	}
	opts := append(natsconn.Options(e.tls, e.auth),
		natsgo.Name("flint nats source "+e.name),
		natsgo.Timeout(timeout),
		natsgo.NoReconnect(),
		natsgo.ClosedHandler(func(*natsgo.Conn) { c.once.Do(func() { close(c.lost) }) }),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, sub *natsgo.Subscription, err error) {
			fields := []zap.Field{zap.Error(err)}
			if sub != nil {
				if n, derr := sub.Dropped(); derr == nil {
					fields = append(fields, zap.Int("dropped", n))
				}
			}
			e.log.Warn("nats client error", fields...)
		}),
	)
	nc, err := natsgo.Connect(e.url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", e.url, err)
	}
	c.nc = nc
	if e.queue != "" {
		_, err = nc.ChanQueueSubscribe(e.subject, e.queue, c.msgs)
	} else {
		_, err = nc.ChanSubscribe(e.subject, c.msgs)
	}
	if err == nil {
		err = nc.FlushWithContext(ctx)
	}
	if err == nil {
		err = nc.LastError()
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("subscribing to %q: %w", e.subject, err)
	}
	e.log.Info("subscribed", zap.String("url", nc.ConnectedUrlRedacted()), zap.String("subject", e.subject), zap.String("queue", e.queue))
	return c, nil
}

// Receive waits for a message and returns it with those already delivered
// (at most MaxBatch), without those the filter drops or whose data cannot be
// built; it fails once the connection is lost.
func (c *consumer) Receive(ctx context.Context) ([]pull.Message, error) {
	for {
		var first *natsgo.Msg
		select {
		case first = <-c.msgs:
		case <-c.lost:
			select { // what was delivered before the loss goes first
			case first = <-c.msgs:
			default:
				return nil, c.lostError()
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		batch := make([]pull.Message, 0, min(len(c.msgs)+1, MaxBatch))
		batch = c.add(ctx, batch, first)
	more:
		for len(batch) < MaxBatch {
			select {
			case m := <-c.msgs:
				batch = c.add(ctx, batch, m)
			default:
				break more
			}
		}
		if len(batch) > 0 {
			return batch, nil
		}
	}
}

// add appends m's message to batch, unless the filter drops it or its data
// cannot be built (jsonBody on a payload that is not JSON), as Argo drops it.
func (c *consumer) add(ctx context.Context, batch []pull.Message, m *natsgo.Msg) []pull.Message {
	e := c.e
	data, err := e.data(m.Subject, m.Header, m.Data)
	if err != nil {
		e.metrics.Failed()
		e.log.Warn("message dropped: its event data cannot be built", zap.String("subject", m.Subject), zap.Error(err))
		return batch
	}
	if e.filter != nil {
		if pass, err := e.filter.MatchContext(ctx, data, filter.DefaultTimeout); !pass {
			e.metrics.Filtered()
			if err != nil {
				e.log.Debug("message dropped by filter", zap.String("filter", e.filter.String()), zap.Error(err))
			}
			return batch
		}
	}
	return append(batch, pull.Message{ID: c.ids.next(), Data: data})
}

// lostError says why the connection closed.
func (c *consumer) lostError() error {
	if err := c.nc.LastError(); err != nil {
		return fmt.Errorf("the connection to %s was lost: %w", c.e.url, err)
	}
	return errors.New("the connection to " + c.e.url + " was lost")
}

// Ack does nothing: core NATS takes no acknowledgement.
func (c *consumer) Ack(context.Context, pull.Message) error { return nil }

// Nack does nothing: core NATS never delivers a message again.
func (c *consumer) Nack(context.Context, pull.Message) error { return nil }

// Close closes the connection; the messages still buffered are lost, as
// core NATS delivers them once.
func (c *consumer) Close() error {
	c.nc.Close()
	return nil
}
