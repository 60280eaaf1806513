package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/metrics"
	"github.com/flintevents/flint/sources/filter"
	"github.com/flintevents/flint/sources/pull"
)

// commitTimeout bounds the commit of the stored records' offsets when a
// consumer closes.
const commitTimeout = 5 * time.Second

// entry is one kafka entry of an EventSource, ready to dial.
type entry struct {
	name      string
	topic     string
	spec      *v1alpha1.KafkaEventSource
	opts      []kgo.Opt // connection and `config` options
	group     string    // the consumer group; "" in partition mode
	groupOpts []kgo.Opt
	partition int32          // partition mode
	offsets   *offsetTracker // partition mode: kept across reconnects
	interval  time.Duration  // between two events, from limitEventsPerSecond
	filter    *filter.Filter
	ignored   []string // `config` keys franz-go has no setting for
	warned    sync.Once
	metrics   *metrics.SourceEvent
	log       *zap.Logger
}

// offsetTracker is the next offset to read of the partition of a partition
// mode entry: set at the newest offset by the first dial, moved past each
// stored record, and read by every later dial.
type offsetTracker struct {
	next atomic.Int64
	set  atomic.Bool
}

// dial connects a client: a member of the group, or a reader of the
// partition from where the last one stopped.
func (e *entry) dial(ctx context.Context) (pull.Consumer, error) {
	e.warned.Do(func() {
		for _, k := range e.ignored {
			e.log.Warn("the config setting has no franz-go equivalent and is ignored", zap.String("key", k))
		}
		e.log.Info("reading the topic", zap.String("mode", e.describe()))
	})
	opts := slices.Clone(e.opts)
	if e.group != "" {
		cl, err := kgo.NewClient(append(opts, e.groupOpts...)...)
		if err != nil {
			return nil, fmt.Errorf("building the kafka client: %w", err)
		}
		return &consumer{entry: e, cl: cl}, nil
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("building the kafka client: %w", err)
	}
	if !e.offsets.set.Load() {
		end, err := e.endOffset(ctx, cl)
		if err != nil {
			cl.Close()
			return nil, err
		}
		e.offsets.next.Store(end)
		e.offsets.set.Store(true)
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{
		e.topic: {e.partition: kgo.NewOffset().At(e.offsets.next.Load())},
	})
	return &consumer{entry: e, cl: cl}, nil
}

// endOffset is the newest offset of the entry's partition; an error when the
// topic has no such partition.
func (e *entry) endOffset(ctx context.Context, cl *kgo.Client) (int64, error) {
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, e.topic)
	if err != nil {
		return 0, fmt.Errorf("listing the end offsets of topic %q: %w", e.topic, err)
	}
	o, ok := ends.Lookup(e.topic, e.partition)
	if !ok {
		return 0, fmt.Errorf("topic %q has no partition %d", e.topic, e.partition)
	}
	if o.Err != nil {
		return 0, fmt.Errorf("the end offset of %s/%d: %w", e.topic, e.partition, o.Err)
	}
	return o.Offset, nil
}

// consumer is one connected client of an entry.
type consumer struct {
	*entry
	cl      *kgo.Client
	pending []pull.Message   // received, not yet returned (limitEventsPerSecond)
	last    time.Time        // when the last paced message was returned
	lanes   map[int32]string // partition → "topic/partition"
}

// Receive polls the client for records and returns their messages; with
// limitEventsPerSecond, one message at a time, paced.
func (c *consumer) Receive(ctx context.Context) ([]pull.Message, error) {
	if len(c.pending) == 0 {
		fetches := c.cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if fetches.IsClientClosed() {
			return nil, errors.New("the kafka client is closed")
		}
		failed := false
		fetches.EachError(func(topic string, partition int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return
			}
			failed = true
			c.log.Warn("fetching", zap.String("partition", topic+"/"+strconv.Itoa(int(partition))), zap.Error(err))
		})
		c.pending = make([]pull.Message, 0, fetches.NumRecords())
		fetches.EachRecord(func(r *kgo.Record) {
			if m, ok := c.message(ctx, r); ok {
				c.pending = append(c.pending, m)
			}
		})
		if len(c.pending) == 0 && failed {
			// The client retries on its own; do not spin on its errors.
			select {
			case <-time.After(200 * time.Millisecond):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	if c.interval <= 0 || len(c.pending) == 0 {
		out := c.pending
		c.pending = nil
		return out, nil
	}
	if wait := time.Until(c.last.Add(c.interval)); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c.last = time.Now()
	m := c.pending[0]
	c.pending = c.pending[1:]
	return []pull.Message{m}, nil
}

// message is the message of one record; false when the record is skipped
// (its value is not JSON under jsonBody, or the filter drops it).
func (c *consumer) message(ctx context.Context, r *kgo.Record) (pull.Message, bool) {
	lane := c.lane(r)
	var offset [20]byte
	id := lane + "/" + string(strconv.AppendInt(offset[:0], r.Offset, 10))
	data, err := newEventData(r, c.spec.JSONBody, c.spec.Metadata)
	if err != nil {
		c.log.Error("skipping a record whose event data cannot be made", zap.String("id", id), zap.Error(err))
		return pull.Message{}, false
	}
	if c.filter != nil {
		if pass, err := c.filter.MatchContext(ctx, data, filter.DefaultTimeout); !pass {
			c.metrics.Filtered()
			c.log.Debug("event dropped by filter", zap.String("id", id), zap.Error(err))
			return pull.Message{}, false
		}
	}
	return pull.Message{
		ID:   id,
		Data: data,
		Time: r.Timestamp,
		Lane: lane,
		Ref:  r,
	}, true
}

// lane is "topic/partition" of r, made once per partition and client: a
// client reads the entry's one topic.
func (c *consumer) lane(r *kgo.Record) string {
	if l, ok := c.lanes[r.Partition]; ok {
		return l
	}
	l := r.Topic + "/" + strconv.Itoa(int(r.Partition))
	if c.lanes == nil {
		c.lanes = map[int32]string{}
	}
	c.lanes[r.Partition] = l
	return l
}

// Ack marks the record's offset for commit (group mode), or moves the
// partition's next offset past it (partition mode). The runner acks in
// offset order within a partition.
func (c *consumer) Ack(_ context.Context, m pull.Message) error {
	r, ok := m.Ref.(*kgo.Record)
	if !ok {
		return fmt.Errorf("message %s carries no record", m.ID)
	}
	if c.group != "" {
		c.cl.MarkCommitRecords(r)
		return nil
	}
	c.offsets.next.Store(r.Offset + 1)
	return nil
}

// Nack leaves the record: its offset is not committed, so it is read again
// by the next client (after a reconnect, a rebalance or a restart).
func (c *consumer) Nack(context.Context, pull.Message) error { return nil }

// Close commits the offsets of the stored records (group mode) and closes
// the client, leaving the group.
func (c *consumer) Close() error {
	var err error
	if c.group != "" {
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		err = c.cl.CommitMarkedOffsets(ctx)
		cancel()
		if err != nil {
			err = fmt.Errorf("committing the offsets of stored records: %w", err)
		}
	}
	c.cl.Close()
	return err
}
