package mqtt

import (
	"crypto/sha256"
	"sync"

	"github.com/flintevents/flint/sources"
)

// idBook gives each MQTT delivery its event id. A QoS 1 packet id names a
// message only while it is unacknowledged, so it cannot be the event id; the
// book mints an id per new delivery and remembers it under the packet id,
// so that a redelivery (DUP set) of the same message (same packet id, topic
// and payload) on a later connection of this process gets it back and the
// broker's dedupe drops the copy. It is bounded by the 65,535 packet ids.
type idBook struct {
	mu    sync.Mutex
	byMID map[uint16]delivery
}

// delivery is the last delivery seen under a packet id.
type delivery struct {
	id    string
	topic string
	sum   [sha256.Size]byte
}

func newIDBook() *idBook { return &idBook{byMID: map[uint16]delivery{}} }

// id is the event id of a delivery of payload on topic under packet id mid;
// dup is its DUP flag.
func (b *idBook) id(mid uint16, dup bool, topic string, payload []byte) string {
	sum := sha256.Sum256(payload)
	b.mu.Lock()
	defer b.mu.Unlock()
	if d, ok := b.byMID[mid]; ok && dup && d.topic == topic && d.sum == sum {
		return d.id
	}
	d := delivery{id: sources.NewID(), topic: topic, sum: sum}
	b.byMID[mid] = d
	return d.id
}
