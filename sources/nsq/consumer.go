package nsq

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/nsqio/go-nsq"
	"go.uber.org/zap"

	"github.com/flintevents/flint/sources/pull"
)

// Bounds of one consumer.
const (
	// stopTimeout bounds how long Close waits for go-nsq to close its
	// connections.
	stopTimeout = 5 * time.Second
	// requeueStep is the requeue delay per attempt of a message whose event
	// was not stored, up to maxRequeueDelay.
	requeueStep     = time.Second
	maxRequeueDelay = time.Minute
)

// consumer is one go-nsq consumer of an entry's topic and channel, found
// through nsqlookupd. go-nsq hands each message to handle, which keeps it
// outstanding (touched while it waits) until Ack or Nack settles it.
type consumer struct {
	e    *entry
	nsq  *nsq.Consumer
	msgs chan pull.Message
	done chan struct{} // closed by Close

	mu          sync.Mutex
	closed      bool
	outstanding map[*nsq.Message]struct{}

	touchDone chan struct{}
}

var _ pull.Consumer = (*consumer)(nil)

// dial checks that nsqlookupd answers, then starts a go-nsq consumer that
// asks it for the nsqd nodes of the topic and connects to each.
func (e *entry) dial(ctx context.Context) (pull.Consumer, error) {
	if err := e.ping(ctx); err != nil {
		return nil, err
	}
	nc, err := nsq.NewConsumer(e.topic, e.channel, e.config())
	if err != nil {
		return nil, fmt.Errorf("nsq consumer of topic %s, channel %s: %w", e.topic, e.channel, err)
	}
	setLogger(nc, e.log)
	c := &consumer{
		e:           e,
		nsq:         nc,
		msgs:        make(chan pull.Message, e.settings.inFlight),
		done:        make(chan struct{}),
		outstanding: make(map[*nsq.Message]struct{}, e.settings.inFlight),
		touchDone:   make(chan struct{}),
	}
	nc.AddHandler(nsq.HandlerFunc(c.handle))
	if err := nc.ConnectToNSQLookupd(e.lookupd); err != nil {
		nc.Stop()
		return nil, fmt.Errorf("nsqlookupd %s: %w", e.lookupd, err)
	}
	go c.touchLoop()
	return c, nil
}

// ping asks nsqlookupd's /ping, so that an unreachable lookupd is a failed
// dial, retried on the entry's connectionBackoff.
func (e *entry) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, DefaultPingTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.pingURL, nil)
	if err != nil {
		return fmt.Errorf("nsqlookupd %s: %w", e.lookupd, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("nsqlookupd %s: %w", e.lookupd, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("nsqlookupd %s: /ping answered %s", e.lookupd, resp.Status)
	}
	return nil
}

// handle takes one message from go-nsq: the filter's rejects and bodies
// that cannot be encoded are finished here; the rest wait for Receive.
func (c *consumer) handle(m *nsq.Message) error {
	m.DisableAutoResponse()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		m.RequeueWithoutBackoff(0)
		return nil
	}
	c.outstanding[m] = struct{}{}
	c.mu.Unlock()

	pm, err := c.message(m)
	if err != nil || pm.Data == nil {
		c.settle(m)
		m.Finish()
		return nil
	}
	select {
	case c.msgs <- pm:
	case <-c.done: // Close requeues it
	}
	return nil
}

// message builds the pull message of m; nil Data means m is dropped.
func (c *consumer) message(m *nsq.Message) (pull.Message, error) {
	e := c.e
	data, err := e.data.encode(m)
	if err != nil {
		e.metrics.Failed()
		e.log.Error("dropping an nsq message whose event data cannot be built",
			zap.String("id", string(m.ID[:])), zap.Error(err))
		return pull.Message{}, err
	}
	if e.filter != nil {
		ok, err := e.filter.Match(data)
		if err != nil {
			e.log.Warn("filter expression failed; dropping the message", zap.String("id", string(m.ID[:])), zap.Error(err))
		}
		if !ok {
			e.metrics.Filtered()
			return pull.Message{}, nil
		}
	}
	return pull.Message{
		ID:   m.NSQDAddress + "/" + e.topic + "/" + e.channel + "/" + string(m.ID[:]),
		Data: data,
		Time: time.Unix(0, m.Timestamp),
		Ref:  m,
	}, nil
}

// Receive implements pull.Consumer: it waits for one message and returns it
// with those already waiting.
func (c *consumer) Receive(ctx context.Context) ([]pull.Message, error) {
	var batch []pull.Message
	select {
	case m := <-c.msgs:
		batch = append(batch, m)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for len(batch) < cap(c.msgs) {
		select {
		case m := <-c.msgs:
			batch = append(batch, m)
		default:
			return batch, nil
		}
	}
	return batch, nil
}

// Ack implements pull.Consumer: FIN.
func (c *consumer) Ack(_ context.Context, m pull.Message) error {
	msg, ok := m.Ref.(*nsq.Message)
	if !ok {
		return errors.New("nsq: acknowledging a message of another consumer")
	}
	c.settle(msg)
	msg.Finish()
	return nil
}

// Nack implements pull.Consumer: REQ, to come back after a delay growing
// with the message's attempts.
func (c *consumer) Nack(_ context.Context, m pull.Message) error {
	msg, ok := m.Ref.(*nsq.Message)
	if !ok {
		return errors.New("nsq: requeueing a message of another consumer")
	}
	c.settle(msg)
	msg.RequeueWithoutBackoff(requeueDelay(msg.Attempts))
	return nil
}

func requeueDelay(attempts uint16) time.Duration {
	return min(time.Duration(attempts)*requeueStep, maxRequeueDelay)
}

// settle forgets m: it is no longer touched nor requeued by Close.
func (c *consumer) settle(m *nsq.Message) {
	c.mu.Lock()
	delete(c.outstanding, m)
	c.mu.Unlock()
}

// touchLoop sends TOUCH for every outstanding message each third of the
// message timeout, so a slow emit or a full runner does not let nsqd hand
// the message to another consumer.
func (c *consumer) touchLoop() {
	defer close(c.touchDone)
	t := time.NewTicker(c.e.settings.msgTimeout / 3)
	defer t.Stop()
	var held []*nsq.Message
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		held = held[:0]
		c.mu.Lock()
		for m := range c.outstanding {
			held = append(held, m)
		}
		c.mu.Unlock()
		for _, m := range held {
			m.Touch()
		}
	}
}

// Close implements pull.Consumer: it requeues every message not settled
// (handed out and never acknowledged, or still waiting for Receive) and
// stops the go-nsq consumer, waiting at most stopTimeout for it.
func (c *consumer) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.done)
	left := make([]*nsq.Message, 0, len(c.outstanding))
	for m := range c.outstanding {
		left = append(left, m)
	}
	clear(c.outstanding)
	c.mu.Unlock()
	<-c.touchDone
	for _, m := range left {
		m.RequeueWithoutBackoff(0)
	}
	c.nsq.Stop()
	select {
	case <-c.nsq.StopChan:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("nsq consumer of topic %s did not stop within %v", c.e.topic, stopTimeout)
	}
}
