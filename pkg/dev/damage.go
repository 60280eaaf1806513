package dev

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/flintevents/flint/broker"
	"github.com/flintevents/flint/pkg/natsd"
)

// streamLoss is what a broker stream lost from its store, as its consumers witness it.
type streamLoss struct {
	// stream is the JetStream stream's name.
	stream string
	// lost is the least number of events the stream no longer holds although a
	// trigger had not delivered them.
	lost int
	// lastSeq is the stream's last sequence after recovery; handedOut the highest
	// sequence a trigger consumer had been handed before the stop.
	lastSeq, handedOut uint64
	// empty is whether the stream holds no message at all.
	empty bool
	// ahead are the trigger consumers handed sequences beyond lastSeq.
	ahead []string
}

// recoveryLosses collects what the embedded server reports lost while it
// recovers its store.
type recoveryLosses struct {
	mu     sync.Mutex
	losses []natsd.Loss
}

func (r *recoveryLosses) add(l natsd.Loss) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.losses = append(r.losses, l)
}

func (r *recoveryLosses) all() []natsd.Loss {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.losses)
}

// checkStore compares, before anything is delivered, what each broker stream of a
// kept store holds with the state of its trigger consumers, which JetStream keeps
// apart from the messages. A consumer handed events up to a sequence the stream no
// longer reaches, one owing acknowledgements for more events than the stream holds
// on its subject, or messages the server reported lost while recovering a damaged
// block or found handed out past its stream's end (reported), mean accepted
// events are gone: each such stream is logged as an error naming it and the
// least count of events lost. The events it still holds are delivered as usual,
// and a stream that lost its tail is renumbered so that new events are not
// skipped.
func checkStore(ctx context.Context, nc *nats.Conn, reported []natsd.Loss, log *zap.Logger) []streamLoss {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil
	}
	var losses []streamLoss
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		if strings.HasPrefix(name, "KV_") || strings.HasPrefix(name, "OBJ_") || strings.HasPrefix(name, deadLetterPrefix) {
			continue
		}
		s, err := js.Stream(ctx, name)
		if err != nil {
			log.Warn("reading a broker stream's state at start", zap.String("stream", name), zap.Error(err))
			continue
		}
		state := s.CachedInfo().State
		loss := streamLoss{stream: name, lastSeq: state.LastSeq, empty: state.Msgs == 0}
		infos := s.ListConsumers(ctx)
		for info := range infos.Info() {
			if !broker.IsTriggerConsumer(info.Name) {
				continue
			}
			log.Debug("consumer state at start", zap.String("stream", name), zap.String("consumer", info.Name),
				zap.Uint64("delivered", info.Delivered.Stream), zap.Uint64("ackFloor", info.AckFloor.Stream),
				zap.Uint64("pending", info.NumPending), zap.Int("ackPending", info.NumAckPending),
				zap.Uint64("firstSeq", state.FirstSeq), zap.Uint64("lastSeq", state.LastSeq), zap.Uint64("msgs", state.Msgs),
				zap.Int("deleted", state.NumDeleted))
			loss.handedOut = max(loss.handedOut, info.Delivered.Stream)
			if info.Delivered.Stream > state.LastSeq {
				loss.ahead = append(loss.ahead, info.Name)
			}
			// Handed out beyond what the stream now reaches.
			loss.lost = max(loss.lost, int(info.Delivered.Stream)-int(max(state.LastSeq, info.AckFloor.Stream)))
			// Handed out and not acknowledged, yet not among the messages the stream
			// holds on the consumer's subject besides those never handed out. With
			// interest retention a message waits for every consumer, so each one the
			// consumer still owes must be there; older ones other consumers owe only
			// make this count lower.
			// A stream with a maximum age removes old events by itself: only
			// its tail witnesses damage.
			held, ok := subjectMsgs(ctx, s, info.Config)
			if ok && s.CachedInfo().Config.MaxAge == 0 {
				loss.lost = max(loss.lost, info.NumAckPending-(held-int(info.NumPending)))
			}
		}
		if infos.Err() != nil {
			log.Warn("reading a broker stream's consumers at start", zap.String("stream", name), zap.Error(infos.Err()))
		}
		if n := reportedLost(ctx, nc, name); n > loss.lost {
			loss.lost = n
		}
		for _, r := range reported {
			// The server moved these consumers back before they could be read.
			if r.Stream == name && broker.IsTriggerConsumer(r.Consumer) {
				loss.handedOut = max(loss.handedOut, r.Delivered)
				loss.lost = max(loss.lost, int(r.Delivered)-int(r.LastSeq))
			}
		}
		if loss.lost > 0 {
			losses = append(losses, loss)
		}
		if loss.handedOut > loss.lastSeq {
			renumber(ctx, nc, s, loss, log)
		}
	}
	for _, l := range losses {
		log.Error("the event store is damaged: accepted events that were not delivered are lost; the events it still holds are delivered",
			zap.String("stream", l.stream), zap.Int("lost", l.lost),
			zap.Uint64("lastSequence", l.lastSeq), zap.Uint64("handedOutUpTo", l.handedOut))
	}
	return losses
}

// reportedLost is the number of messages the server reported lost when it
// recovered a stream's store (the "lost" part of its state, which the client
// library does not decode); 0 when none or when it cannot be read.
func reportedLost(ctx context.Context, nc *nats.Conn, stream string) int {
	msg, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.INFO."+stream, nil)
	if err != nil {
		return 0
	}
	var info struct {
		State struct {
			Lost *struct {
				Msgs []uint64 `json:"msgs"`
			} `json:"lost"`
		} `json:"state"`
	}
	if json.Unmarshal(msg.Data, &info) != nil || info.State.Lost == nil {
		return 0
	}
	return len(info.State.Lost.Msgs)
}

// subjectMsgs is the number of messages the stream holds on the subjects a consumer
// reads.
func subjectMsgs(ctx context.Context, s jetstream.Stream, cfg jetstream.ConsumerConfig) (int, bool) {
	filters := cfg.FilterSubjects
	if cfg.FilterSubject != "" {
		filters = append(filters, cfg.FilterSubject)
	}
	if len(filters) == 0 {
		return int(s.CachedInfo().State.Msgs), true
	}
	n := 0
	for _, f := range filters {
		info, err := s.Info(ctx, jetstream.WithSubjectFilter(f))
		if err != nil {
			return 0, false
		}
		for _, c := range info.State.Subjects {
			n += int(c)
		}
	}
	return n, true
}

// renumber makes a stream that lost its last messages number new ones after
// the highest sequence its consumers were handed, which they would otherwise
// skip as already delivered. An empty stream is purged up to that sequence,
// which removes nothing and moves its next sequence; a stream that still holds
// messages cannot be moved without removing them, so its trigger consumers are
// reset to their acknowledgement floor instead, and deliver again what they had
// not acknowledged.
func renumber(ctx context.Context, nc *nats.Conn, s jetstream.Stream, loss streamLoss, log *zap.Logger) {
	if loss.empty {
		if err := s.Purge(ctx, jetstream.WithPurgeSequence(loss.handedOut+1)); err != nil {
			log.Error("moving the damaged stream's next sequence past what its triggers were handed; new events may go undelivered",
				zap.String("stream", loss.stream), zap.Error(err))
		}
		return
	}
	for _, c := range loss.ahead {
		msg, err := nc.RequestWithContext(ctx, "$JS.API.CONSUMER.RESET."+loss.stream+"."+c, nil)
		if err == nil {
			var resp struct {
				Error *struct {
					Description string `json:"description"`
				} `json:"error"`
			}
			if json.Unmarshal(msg.Data, &resp) == nil && resp.Error != nil {
				err = errors.New(resp.Error.Description)
			}
		}
		if err != nil {
			log.Error("resetting a trigger of the damaged stream to its acknowledgement floor; new events may go undelivered",
				zap.String("stream", loss.stream), zap.String("consumer", c), zap.Error(err))
		}
	}
}
