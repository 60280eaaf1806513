package pull_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/flintevents/flint/sources/pull"
)

// errLost is what a fake consumer answers once its connection is lost.
var errLost = errors.New("fakequeue: connection lost")

// fakeQueue is a fake broker queue held in process, standing in for a real
// one in the runner's tests: messages wait in publish order; a delivered
// message stays unacknowledged until Ack; Nack, the consumer's Close and a
// broker Stop put its unacknowledged messages back at the front, to be
// delivered again, as a real broker does. Stopped, it refuses dials, and the
// consumers of before the stop fail every call.
type fakeQueue struct {
	// batch is the most messages one Receive returns (default 16).
	batch int
	// onAck, when set, sees every acknowledged id first; an error refuses
	// the ack.
	onAck func(id string) error

	mu          sync.Mutex
	seq         int
	ready       []fakeMsg
	unacked     map[string]fakeDelivery
	acked       map[string]int // id → acks
	nacked      map[string]int // id → nacks
	delivered   map[string]int // id → deliveries
	ackOrder    []string
	stopped     bool
	gen         int // bumped by Stop: consumers of older generations are lost
	dials       int
	failReceive int // the next Receives to fail, as a lost connection
	wake        chan struct{}
}

type fakeMsg struct {
	seq  int
	id   string
	body string
}

type fakeDelivery struct {
	msg      fakeMsg
	consumer *fakeConsumer
}

func newFakeQueue() *fakeQueue {
	return &fakeQueue{
		batch:     16,
		unacked:   map[string]fakeDelivery{},
		acked:     map[string]int{},
		nacked:    map[string]int{},
		delivered: map[string]int{},
		wake:      make(chan struct{}),
	}
}

// notify wakes every waiting Receive; q.mu is held.
func (q *fakeQueue) notify() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// Publish appends messages with these bodies; their ids are "q/<seq>".
func (q *fakeQueue) Publish(bodies ...string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, b := range bodies {
		q.seq++
		q.ready = append(q.ready, fakeMsg{seq: q.seq, id: fmt.Sprintf("q/%d", q.seq), body: b})
	}
	q.notify()
}

// Stop stops the broker: every consumer is lost and its unacknowledged
// messages wait again.
func (q *fakeQueue) Stop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopped = true
	q.gen++
	var back []fakeMsg
	for id, d := range q.unacked {
		back = append(back, d.msg)
		delete(q.unacked, id)
	}
	q.requeue(back)
}

// Start starts a stopped broker again.
func (q *fakeQueue) Start() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopped = false
	q.notify()
}

// requeue puts msgs back at the front, in publish order; q.mu is held.
func (q *fakeQueue) requeue(msgs []fakeMsg) {
	if len(msgs) == 0 {
		return
	}
	q.ready = append(msgs, q.ready...)
	slices.SortStableFunc(q.ready, func(a, b fakeMsg) int { return a.seq - b.seq })
	q.notify()
}

// Dial connects a consumer.
func (q *fakeQueue) Dial(context.Context) (pull.Consumer, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dials++
	if q.stopped {
		return nil, errors.New("fakequeue: connection refused")
	}
	return &fakeConsumer{q: q, gen: q.gen}, nil
}

// counts returns a copy of the acked, nacked and delivered counts.
func (q *fakeQueue) counts() (acked, nacked, delivered map[string]int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return maps(q.acked), maps(q.nacked), maps(q.delivered)
}

func maps(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// waiting is how many messages are ready or unacknowledged.
func (q *fakeQueue) waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ready) + len(q.unacked)
}

// fakeConsumer is one connection to a fakeQueue.
type fakeConsumer struct {
	q      *fakeQueue
	gen    int
	closed bool
}

// lost reports whether the connection is gone; q.mu is held.
func (c *fakeConsumer) lost() bool { return c.closed || c.q.stopped || c.gen != c.q.gen }

func (c *fakeConsumer) Receive(ctx context.Context) ([]pull.Message, error) {
	q := c.q
	for {
		q.mu.Lock()
		if c.lost() {
			q.mu.Unlock()
			return nil, errLost
		}
		if q.failReceive > 0 {
			q.failReceive--
			q.mu.Unlock()
			return nil, errLost
		}
		if n := min(len(q.ready), q.batch); n > 0 {
			msgs := make([]pull.Message, n)
			for i, m := range q.ready[:n] {
				data, _ := json.Marshal(map[string]string{"body": m.body})
				msgs[i] = pull.Message{ID: m.id, Data: data, Ref: m.seq}
				q.unacked[m.id] = fakeDelivery{msg: m, consumer: c}
				q.delivered[m.id]++
			}
			q.ready = q.ready[n:]
			q.mu.Unlock()
			return msgs, nil
		}
		wake := q.wake
		q.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (c *fakeConsumer) Ack(_ context.Context, m pull.Message) error {
	q := c.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if c.lost() {
		return errLost
	}
	d, ok := q.unacked[m.ID]
	if !ok || d.consumer != c {
		return fmt.Errorf("fakequeue: %s is not delivered to this consumer", m.ID)
	}
	if q.onAck != nil {
		if err := q.onAck(m.ID); err != nil {
			return err
		}
	}
	delete(q.unacked, m.ID)
	q.acked[m.ID]++
	q.ackOrder = append(q.ackOrder, m.ID)
	return nil
}

func (c *fakeConsumer) Nack(_ context.Context, m pull.Message) error {
	q := c.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if c.lost() {
		return errLost
	}
	d, ok := q.unacked[m.ID]
	if !ok || d.consumer != c {
		return fmt.Errorf("fakequeue: %s is not delivered to this consumer", m.ID)
	}
	delete(q.unacked, m.ID)
	q.nacked[m.ID]++
	q.requeue([]fakeMsg{d.msg})
	return nil
}

func (c *fakeConsumer) Close() error {
	q := c.q
	q.mu.Lock()
	defer q.mu.Unlock()
	c.closed = true
	var back []fakeMsg
	for id, d := range q.unacked {
		if d.consumer == c {
			back = append(back, d.msg)
			delete(q.unacked, id)
		}
	}
	q.requeue(back)
	return nil
}

// Backlog counts the messages ready or unacknowledged.
func (c *fakeConsumer) Backlog(context.Context) (int64, error) {
	q := c.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if c.lost() {
		return 0, errLost
	}
	return int64(len(q.ready) + len(q.unacked)), nil
}
