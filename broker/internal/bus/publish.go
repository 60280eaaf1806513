package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/flintevents/flint/broker/internal/wire"
)

// Failures of Publish, matched with errors.Is.
var (
	// ErrUnavailable means JetStream did not acknowledge the event (down, reconnecting,
	// timed out, no stream); the sender may retry.
	ErrUnavailable = errors.New("jetstream unavailable")
	// ErrTooLarge means the encoded event exceeds the NATS server's maximum payload.
	ErrTooLarge = errors.New("event exceeds the NATS maximum payload")
	// ErrEncoding means the event could not be encoded.
	ErrEncoding = errors.New("encoding event")
	// ErrStoreFull means the broker stream reached its size cap, or the server its
	// store limit: nothing stored was dropped, and the event is accepted again once
	// deliveries free space. It also matches ErrUnavailable.
	ErrStoreFull = fmt.Errorf("%w: event store full", ErrUnavailable)
	// ErrNotAcknowledged means the event was handed to NATS but no answer came: the
	// acknowledgement timed out, the connection dropped while it was awaited, or the
	// caller stopped waiting. The event may be stored, or may still be, from the
	// client's reconnect buffer; publishing it again is safe, as its source+id is its
	// de-duplication key. It also matches ErrUnavailable. Every other failure means the
	// event was not stored.
	ErrNotAcknowledged = fmt.Errorf("%w: no acknowledgement, the event may be stored", ErrUnavailable)
)

// JetStream error codes that mean "no space for this message".
const (
	jsInsufficientResources = 10023
	jsStreamStoreFailed     = 10077
)

// JetStreamOptions bound asynchronous publishing: at most maxPending events await their
// acknowledgement, each for at most timeout.
func JetStreamOptions(maxPending int, timeout time.Duration) []jetstream.JetStreamOpt {
	return []jetstream.JetStreamOpt{
		jetstream.WithPublishAsyncMaxPending(maxPending),
		jetstream.WithPublishAsyncTimeout(timeout),
	}
}

// Publisher stores events in broker streams and returns once JetStream acknowledged them.
type Publisher struct {
	js   jetstream.JetStream
	bufs sync.Pool
}

// NewPublisher returns a Publisher writing through js. Create js with JetStreamOptions so
// pending acknowledgements are bounded.
func NewPublisher(js jetstream.JetStream) *Publisher {
	return &Publisher{js: js, bufs: sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}}
}

// Publish stores ev on subject with its source+id as de-duplication key and waits for
// the acknowledgement; ctx bounds the wait. A duplicate within the window is success.
// Publishing is asynchronous underneath, so concurrent calls share round trips. A
// failure once the event was handed to NATS matches ErrNotAcknowledged unless
// JetStream answered it (no stream, a refusal such as a full store).
func (p *Publisher) Publish(ctx context.Context, subject string, ev *cloudevents.Event) error {
	bp := p.bufs.Get().(*[]byte)
	body, err := wire.Append((*bp)[:0], ev)
	if err != nil {
		p.bufs.Put(bp)
		return fmt.Errorf("%w: %w", ErrEncoding, err)
	}
	*bp = body
	msg := &nats.Msg{
		Subject: subject,
		Header:  nats.Header{jetstream.MsgIDHeader: []string{MsgID(ev.Source(), ev.ID())}},
		Data:    body,
	}
	fut, err := p.js.PublishMsgAsync(msg)
	if err != nil {
		p.bufs.Put(bp)
		return classify(subject, err)
	}
	select {
	case <-fut.Ok():
		p.bufs.Put(bp)
		return nil
	case err := <-fut.Err():
		p.bufs.Put(bp)
		if answered(err) {
			return classify(subject, err)
		}
		return fmt.Errorf("publishing to %s: %w: %w", subject, ErrNotAcknowledged, err)
	case <-ctx.Done():
		// The library may still resend msg; its buffer is left to the garbage collector.
		return fmt.Errorf("publishing to %s: %w: %w", subject, ErrNotAcknowledged, ctx.Err())
	}
}

// answered reports whether the failure of a publish that was handed to NATS is
// JetStream's own answer, so that the event is surely not stored: no stream took the
// subject, or the stream refused the event. Anything else (a timeout, a dropped
// connection, an unreadable acknowledgement) leaves the outcome unknown.
func answered(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) || errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders)
}

func classify(subject string, err error) error {
	if errors.Is(err, nats.ErrMaxPayload) {
		return fmt.Errorf("publishing to %s: %w: %w", subject, ErrTooLarge, err)
	}
	if IsStoreFull(err) {
		return fmt.Errorf("publishing to %s: %w: %w", subject, ErrStoreFull, err)
	}
	return fmt.Errorf("publishing to %s: %w: %w", subject, ErrUnavailable, err)
}

// IsStoreFull reports whether err is JetStream refusing a message for lack of space:
// a stream at its MaxBytes with DiscardNew, or a server at its store limit.
func IsStoreFull(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode {
	case jsInsufficientResources, jsStorageResourcesExceeded:
		return true
	case jsStreamStoreFailed:
		return strings.Contains(apiErr.Description, "maximum bytes") || strings.Contains(apiErr.Description, "maximum messages") ||
			strings.Contains(apiErr.Description, "resources")
	}
	return false
}
