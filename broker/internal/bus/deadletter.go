package bus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of a dead letter, and of a replayed event on a broker stream.
const (
	// HeaderTrigger names the trigger ("namespace/name") that gave up on a dead letter.
	HeaderTrigger = "Flint-Trigger"
	// HeaderSubscriber is the URL the trigger could not deliver to.
	HeaderSubscriber = "Flint-Subscriber"
	// HeaderErrorCode is the last HTTP status of the subscriber, absent without a response.
	HeaderErrorCode = "Flint-Error-Code"
	// HeaderError describes the last failure.
	HeaderError = "Flint-Error"
	// HeaderAttempts is how many times the subscriber was tried.
	HeaderAttempts = "Flint-Attempts"
	// HeaderReplayTo, on a broker stream message, restricts it to one trigger
	// ("namespace/name"): a replayed dead letter goes back only to the trigger that
	// gave up on it; every other trigger skips it.
	HeaderReplayTo = "Flint-Replay-To"
)

// DeadLetter is what a trigger gave up on, as stored in its broker's dead-letter stream.
type DeadLetter struct {
	Namespace, Broker, Trigger string
	// BrokerSeq is the event's sequence in the broker stream; it makes a dead-lettering
	// repeated after a crash a duplicate JetStream stores once.
	BrokerSeq  uint64
	Subscriber string
	Code       int
	Error      string
	Attempts   int
	// Data is the stored event, encoded as on the broker stream.
	Data []byte
}

// PublishDeadLetter stores d in its broker's dead-letter stream and waits for the
// acknowledgement; ctx bounds the wait.
func PublishDeadLetter(ctx context.Context, js jetstream.JetStream, d DeadLetter) error {
	h := nats.Header{}
	h.Set(jetstream.MsgIDHeader, hashID("deadletter", d.Namespace, d.Broker, d.Trigger, strconv.FormatUint(d.BrokerSeq, 10)))
	h.Set(HeaderTrigger, d.Namespace+"/"+d.Trigger)
	h.Set(HeaderSubscriber, d.Subscriber)
	if d.Code != 0 {
		h.Set(HeaderErrorCode, strconv.Itoa(d.Code))
	}
	if d.Error != "" {
		h.Set(HeaderError, oneLine(d.Error))
	}
	h.Set(HeaderAttempts, strconv.Itoa(d.Attempts))
	msg := &nats.Msg{Subject: DeadLetterSubject(d.Namespace, d.Broker, d.Trigger), Header: h, Data: d.Data}
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("storing dead letter in %s: %w", DeadLetterStreamName(d.Namespace, d.Broker), err)
	}
	return nil
}

// ReplayMsg is the broker stream message that replays dead letter number seq of a
// broker's dead-letter stream to one trigger ("namespace/name"). Its de-duplication key
// is the dead letter's, so a replay repeated after a crash is stored once.
func ReplayMsg(namespace, broker, trigger string, seq uint64, data []byte) *nats.Msg {
	h := nats.Header{}
	h.Set(jetstream.MsgIDHeader, hashID("replay", namespace, broker, strconv.FormatUint(seq, 10)))
	h.Set(HeaderReplayTo, trigger)
	return &nats.Msg{Subject: Subject(namespace, broker), Header: h, Data: data}
}

func hashID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
