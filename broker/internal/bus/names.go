// Package bus is the JetStream side shared by the broker ingress and dispatcher: the
// names of streams, subjects and consumers, stream provisioning and event publishing.
package bus

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxNameLen keeps stream and consumer names well inside JetStream's limit, since the
// file store uses them as directory names.
const maxNameLen = 128

// ConsumerPrefix starts the durable name of every trigger consumer, so stale ones can be
// told apart from consumers that other tools create on a broker stream.
const ConsumerPrefix = "trigger_"

// StreamName is the JetStream stream of a broker. Kubernetes names never contain '_',
// so "__" separates namespace and name unambiguously.
func StreamName(namespace, broker string) string {
	return limit("broker_" + namespace + "__" + token(broker))
}

// Subject is the subject a broker's events are published on.
func Subject(namespace, broker string) string {
	return "flint.broker." + namespace + "." + token(broker)
}

// KeepSubject is the subject of the marker messages that keep a broker stream's last
// store block from emptying (see KeeperConsumer).
func KeepSubject(namespace, broker string) string {
	return "flint.keep." + namespace + "." + token(broker)
}

// KeeperConsumer is the durable consumer, on every broker stream, that holds the
// interest in marker messages on KeepSubject: it never pulls, so a marker stays until
// the dispatcher deletes it. It does not start with ConsumerPrefix, so it is never
// taken for a trigger's.
const KeeperConsumer = "keeper"

// ConsumerName is the durable consumer of a trigger. The UID, when known, tells a
// re-created trigger of the same name apart from its predecessor.
func ConsumerName(namespace, trigger, uid string) string {
	return limit(consumerBase(namespace, trigger, uid))
}

// RetryConsumerName is the durable consumer of a trigger's retry lane (RetrySubject).
// It starts with ConsumerPrefix too, so a stale one is swept with the trigger's.
func RetryConsumerName(namespace, trigger, uid string) string {
	return limit(consumerBase(namespace, trigger, uid) + "__retries")
}

func consumerBase(namespace, trigger, uid string) string {
	name := ConsumerPrefix + namespace + "__" + token(trigger)
	if uid != "" {
		name += "__" + token(uid)
	}
	return name
}

// RetrySubjects is the subject filter of the retry lanes of a broker's triggers.
func RetrySubjects(namespace, broker string) string {
	return "flint.retry." + namespace + "." + token(broker) + ".*"
}

// RetrySubject is the subject of a trigger's retry lane: the events it failed to
// deliver and tries again once their backoff has passed.
func RetrySubject(namespace, broker, trigger string) string {
	return "flint.retry." + namespace + "." + token(broker) + "." + token(trigger)
}

// DeadLetterStreamName is the JetStream stream that keeps the dead letters of a
// broker's triggers.
func DeadLetterStreamName(namespace, broker string) string {
	return limit("deadletter_" + namespace + "__" + token(broker))
}

// DeadLetterSubjects is the subject filter of every dead letter of a broker.
func DeadLetterSubjects(namespace, broker string) string {
	return "flint.deadletter." + namespace + "." + token(broker) + ".*"
}

// DeadLetterSubject is the subject of a trigger's dead letters.
func DeadLetterSubject(namespace, broker, trigger string) string {
	return "flint.deadletter." + namespace + "." + token(broker) + "." + token(trigger)
}

// MsgID is the JetStream de-duplication key of an event: a hash of its source and id,
// the pair that identifies a CloudEvent.
func MsgID(source, id string) string {
	var buf [256]byte
	b := append(append(append(buf[:0], source...), 0), id...)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// token makes s usable as one subject token and inside a stream or consumer name.
func token(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '.', '*', '>', ' ', '\t', '/', '\\':
			return '_'
		}
		return r
	}, s)
}

// limit shortens an over-long name, keeping it unique with a hash of the whole.
func limit(name string) string {
	if len(name) <= maxNameLen {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:maxNameLen-17] + "_" + hex.EncodeToString(sum[:8])
}
