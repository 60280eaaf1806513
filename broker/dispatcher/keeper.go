package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/flintevents/flint/broker/internal/bus"
)

// keepEvery is at most how many bytes of events are delivered from a stream between
// two markers: a 4 MiB store block gets one marker per 256 KiB written to it.
const keepEvery = 256 << 10

// keepPerBlock is how many markers a store block gets at least: a stream with a
// small size cap has small blocks, and a block that rolls over before a marker
// reaches the next one leaves single-event block files behind, one per event
// delivered until then.
const keepPerBlock = 16

// Block sizes of JetStream's file store for a stream with interest retention: with
// a size cap, the smallest when a quarter of the cap is no larger, the largest
// when it is no smaller, the medium size in between; the medium size without a cap.
const (
	minBlock    = 32_000
	mediumBlock = 4 << 20
	maxBlock    = 8 << 20
)

// markEvery is the number of bytes delivered between two markers of a stream whose
// size cap is maxBytes (none when not positive).
func markEvery(maxBytes int64) int64 {
	block := int64(mediumBlock)
	if quarter := maxBytes/4 + 1; maxBytes > 0 && quarter <= minBlock {
		block = minBlock
	} else if maxBytes > 0 && quarter >= maxBlock {
		block = maxBlock
	}
	return min(keepEvery, block/keepPerBlock)
}

// keepTimeout bounds storing a marker and deleting the one before it.
const keepTimeout = 5 * time.Second

// keeper keeps a marker message at the tail of a broker stream. With interest
// retention JetStream removes each event once acknowledged; when the stream empties,
// its file store deletes its last block file and creates a new one, for every event
// when deliveries keep up with a moderate rate. A marker, which nobody acknowledges
// (KeeperConsumer holds the interest in it), keeps the last block from emptying. A new
// marker is stored every markEvery bytes delivered, so a block that follows a full one
// soon holds one too, and the marker before it is deleted, so markers never hold more
// than a block or two.
type keeper struct {
	js      jetstream.JetStream
	s       jetstream.Stream
	stream  string
	subject string
	logger  *zap.Logger

	every     int64        // bytes delivered between two markers
	delivered atomic.Int64 // bytes delivered since the last marker
	busy      atomic.Bool  // a marker is being stored

	mu   sync.Mutex // guards last
	last uint64     // stream sequence of the newest marker, 0 if none
}

// newKeeper creates the keeper consumer of a broker's stream, removes the markers an
// earlier run left and stores a first marker.
func newKeeper(ctx context.Context, js jetstream.JetStream, b Broker, logger *zap.Logger) (*keeper, error) {
	k := &keeper{
		js:      js,
		stream:  bus.StreamName(b.Namespace, b.Name),
		subject: bus.KeepSubject(b.Namespace, b.Name),
		logger:  logger,
	}
	s, err := js.Stream(ctx, k.stream)
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", k.stream, err)
	}
	k.s = s
	k.every = markEvery(s.CachedInfo().Config.MaxBytes)
	if err := k.ensure(ctx); err != nil {
		return nil, err
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSubject(k.subject)); err != nil {
		return nil, fmt.Errorf("removing old markers of %s: %w", k.stream, err)
	}
	k.mark(ctx)
	return k, nil
}

// ensure creates the keeper consumer, or re-creates it on a server that lost it.
func (k *keeper) ensure(ctx context.Context) error {
	if _, err := k.js.CreateOrUpdateConsumer(ctx, k.stream, jetstream.ConsumerConfig{
		Durable:       bus.KeeperConsumer,
		Description:   "flint: holds the markers that keep the stream's last store block",
		FilterSubject: k.subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverNewPolicy,
	}); err != nil {
		return fmt.Errorf("creating keeper consumer of %s: %w", k.stream, err)
	}
	return nil
}

// add counts n bytes delivered and stores a new marker once k.every were. It runs
// on the delivering worker; a nil keeper does nothing.
func (k *keeper) add(ctx context.Context, n int) {
	if k == nil || k.delivered.Add(int64(n)) < k.every || !k.busy.CompareAndSwap(false, true) {
		return
	}
	defer k.busy.Store(false)
	k.delivered.Store(0)
	k.mark(ctx)
}

// mark stores a marker, then deletes the one before it. A failure only costs the
// store some work, so it is logged at debug level and the next mark tries again.
func (k *keeper) mark(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, keepTimeout)
	defer cancel()
	ack, err := k.js.Publish(ctx, k.subject, nil)
	if err != nil {
		k.logger.Debug("storing a marker", zap.String("stream", k.stream), zap.Error(err))
		return
	}
	k.mu.Lock()
	prev := k.last
	k.last = ack.Sequence
	k.mu.Unlock()
	if prev == 0 {
		return
	}
	err = k.s.DeleteMsg(ctx, prev)
	if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		k.logger.Debug("deleting a marker", zap.String("stream", k.stream), zap.Uint64("seq", prev), zap.Error(err))
	}
}
