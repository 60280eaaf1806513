package ingress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/flintevents/flint/broker/internal/bus"
	"github.com/flintevents/flint/broker/internal/wire"
	"github.com/flintevents/flint/pkg/jsonlimit"
)

// storedHeadroom is what the attributes of an event may add to its body in the store
// unless Config.MaxStoredSize says otherwise.
const storedHeadroom = 64 << 10

// checkAttributes refuses an event the broker cannot carry faithfully: attributes that are
// not valid UTF-8 and a knativebrokerttl that is not a whole number.
func checkAttributes(ev *cloudevents.Event) error {
	for name, v := range map[string]string{
		"id": ev.ID(), "source": ev.Source(), "type": ev.Type(), "subject": ev.Subject(),
		"datacontenttype": ev.DataContentType(), "dataschema": ev.DataSchema(),
	} {
		if !utf8.ValidString(v) {
			return fmt.Errorf("%w: attribute %s is not valid UTF-8", ErrInvalidEvent, name)
		}
	}
	for name, v := range wire.Extensions(ev) {
		if s, ok := v.(string); ok && !utf8.ValidString(s) {
			return fmt.Errorf("%w: extension %s is not valid UTF-8", ErrInvalidEvent, name)
		}
	}
	if v, ok := wire.Extensions(ev)[wire.TTLExtension]; ok {
		if _, ok := wire.TTL(ev); !ok {
			return fmt.Errorf("%w: %s %q is not a whole number", ErrInvalidEvent, wire.TTLExtension, fmt.Sprint(v))
		}
	}
	return nil
}

// MaxDataDepth is the deepest nesting of JSON event data the ingress stores: a
// sensor refuses data nested deeper (jsonlimit.DefaultMaxDepth), on every
// delivery, so such an event could only be dead-lettered.
const MaxDataDepth = jsonlimit.DefaultMaxDepth

// checkDataDepth refuses JSON event data (content type application/json, or
// none, which sensors read as JSON) nested deeper than MaxDataDepth levels,
// as jsonlimit.Check finds it. Data with too few brackets to be that deep
// (most data: a vectorized count) is not scanned, and other data is checked
// only when a quick count of the brackets open at once (opensMore) finds it
// may be.
func checkDataDepth(ev *cloudevents.Event) error {
	data := ev.Data()
	if len(data) <= MaxDataDepth || bytes.Count(data, []byte{'['})+bytes.Count(data, []byte{'{'}) <= MaxDataDepth {
		return nil
	}
	if ct := ev.DataContentType(); ct != "" && ct != cloudevents.ApplicationJSON {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || !strings.EqualFold(mt, cloudevents.ApplicationJSON) {
			return nil
		}
	}
	if !opensMore(data, MaxDataDepth) {
		return nil
	}
	if err := jsonlimit.Check(data, MaxDataDepth); errors.Is(err, jsonlimit.ErrTooDeep) {
		return fmt.Errorf("%w: data: %w; sensors take data nested at most %d levels", ErrInvalidEvent, err, MaxDataDepth)
	}
	return nil
}

// opensMore reports whether JSON text holds more than limit arrays and
// objects open at once, skipping strings and checking nothing else: in valid
// JSON that is jsonlimit's depth, and text it misjudges is not valid JSON.
func opensMore(data []byte, limit int) bool {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++ // the escaped byte
				}
			}
		case '[', '{':
			if depth++; depth > limit {
				return true
			}
		case ']', '}':
			depth--
		}
	}
	return false
}

// checkSpecVersion refuses a specversion the broker does not speak, naming it.
func checkSpecVersion(version string) error {
	switch version {
	case event.CloudEventsVersionV1, event.CloudEventsVersionV03:
		return nil
	}
	return fmt.Errorf("%w: unsupported specversion %q, want %q", ErrInvalidEvent, version, event.CloudEventsVersionV1)
}

// checkStoredSize refuses an event whose stored form, attributes included, exceeds
// the store's limit.
func (h *Handler) checkStoredSize(ev *cloudevents.Event) error {
	buf := h.bufs.Get().(*bytes.Buffer)
	defer h.bufs.Put(buf)
	buf.Reset()
	enc, err := wire.Append(buf.AvailableBuffer(), ev)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	buf.Grow(len(enc)) // the next event encodes without growing
	if n := int64(len(enc)); n > h.cfg.MaxStoredSize {
		return fmt.Errorf("storing event %s of %d bytes with its attributes, limit %d: %w", ev.ID(), n, h.cfg.MaxStoredSize, ErrTooLarge)
	}
	return nil
}

// store publishes ev on subject, waiting at most PublishTimeout for each
// acknowledgement. A publish left unanswered (bus.ErrNotAcknowledged) is sent again with
// the same de-duplication key until JetStream answers or StoreTimeout (or ctx) ends, so
// a short NATS outage delays the answer instead of failing it. The result is nil once
// JetStream stored the event (or had stored it already), ErrUnconfirmed when no attempt
// was answered before the deadline and one may have been stored, and another error only
// when the event is surely not stored.
func (h *Handler) store(ctx context.Context, subject string, ev *cloudevents.Event) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.StoreTimeout)
	defer cancel()
	var unanswered error // the last attempt that may have been stored
	wait := retryWait
	for attempt := 1; ; attempt++ {
		actx, acancel := context.WithTimeout(ctx, h.cfg.PublishTimeout)
		err := h.pub.Publish(actx, subject, ev)
		acancel()
		switch {
		case err == nil:
			return nil
		case errors.Is(err, bus.ErrTooLarge):
			return fmt.Errorf("storing event %s: %w: %w", ev.ID(), ErrTooLarge, err)
		case errors.Is(err, bus.ErrNotAcknowledged):
			unanswered = err
		case unanswered == nil:
			// Surely not stored, and no earlier attempt may have been.
			return fmt.Errorf("storing event %s: %w", ev.ID(), err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("storing event %s, %d attempts: %w: %w", ev.ID(), attempt, ErrUnconfirmed, unanswered)
		case <-t.C:
		}
		wait = min(2*wait, maxRetryWait)
	}
}

// The pause before publishing an unanswered event again, doubling up to maxRetryWait:
// an acknowledgement that times out has waited already, but a dropped connection
// fails every pending publish at once.
const (
	retryWait    = 50 * time.Millisecond
	maxRetryWait = time.Second
)
