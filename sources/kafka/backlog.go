package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/flintevents/flint/sources/pull"
)

var _ pull.Backlogger = (*consumer)(nil)

// Backlog is how many records wait for the entry, so that a drain does not
// take a slow group join for an empty topic. In group mode it first commits
// the offsets of the records stored so far, then counts the end offsets less
// the group's committed ones (from the oldest offset where nothing is
// committed and the group starts at the oldest, else nothing); in partition
// mode, the end offset less the next offset to read.
func (c *consumer) Backlog(ctx context.Context) (int64, error) {
	adm := kadm.NewClient(c.cl)
	ends, err := adm.ListEndOffsets(ctx, c.topic)
	if err != nil {
		return 0, fmt.Errorf("listing the end offsets of topic %q: %w", c.topic, err)
	}
	if c.group == "" {
		o, ok := ends.Lookup(c.topic, c.partition)
		if !ok || o.Err != nil {
			return 0, fmt.Errorf("the end offset of %s/%d: %v", c.topic, c.partition, o.Err)
		}
		return max(0, o.Offset-c.offsets.next.Load()), nil
	}
	if err := c.cl.CommitMarkedOffsets(ctx); err != nil {
		return 0, fmt.Errorf("committing the offsets of stored records: %w", err)
	}
	committed, err := adm.FetchOffsetsForTopics(ctx, c.group, c.topic)
	if err != nil {
		return 0, fmt.Errorf("fetching the offsets of group %q: %w", c.group, err)
	}
	var starts kadm.ListedOffsets
	if c.spec.ConsumerGroup != nil && c.spec.ConsumerGroup.Oldest {
		if starts, err = adm.ListStartOffsets(ctx, c.topic); err != nil {
			return 0, fmt.Errorf("listing the start offsets of topic %q: %w", c.topic, err)
		}
	}
	var (
		lag  int64
		errs []error
	)
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("the end offset of %s/%d: %w", o.Topic, o.Partition, o.Err))
			return
		}
		from := o.Offset // nothing committed, starting at the newest: nothing waits
		if r, ok := committed.Lookup(o.Topic, o.Partition); ok && r.Err == nil && r.At >= 0 {
			from = r.At
		} else if s, ok := starts.Lookup(o.Topic, o.Partition); ok && s.Err == nil {
			from = s.Offset
		}
		lag += max(0, o.Offset-from)
	})
	return lag, errors.Join(errs...)
}
