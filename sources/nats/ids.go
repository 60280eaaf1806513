package nats

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// ids mints the event ids of one consumer's messages, which have no id of
// their own: 32 hex digits, as Argo's minted ids, made of 8 random bytes
// drawn when the consumer connects and a sequence number, so that ids never
// repeat across consumers and restarts without a random draw per message.
// It is used from the one goroutine that calls Receive.
type ids struct {
	buf [16]byte
	seq uint64
}

// seed draws the random half.
func (g *ids) seed() error {
	if _, err := rand.Read(g.buf[:8]); err != nil {
		return fmt.Errorf("drawing an id prefix: %w", err)
	}
	return nil
}

// next is the next id.
func (g *ids) next() string {
	g.seq++
	binary.BigEndian.PutUint64(g.buf[8:], g.seq)
	return hex.EncodeToString(g.buf[:])
}
