// Package emittertest is a stand-in for an emitter broker in tests: a small
// MQTT 3.1.1 server (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PUBLISH at QoS 0 and 1,
// PINGREQ, DISCONNECT) that speaks emitter's dialect. A topic is
// `<channel key>/<channel>/`; the key must be one the broker knows, granting
// read (subscribe) or write (publish) on a channel prefix, as emitter's keys
// do. A refused subscription is answered with a SUBACK failure code and a
// message on `emitter/error/`, and every message reaches its subscribers at
// QoS 0 under the channel without the key, as emitter sends them.
//
// What it does not do, as emitter does not for a plain subscription: keep a
// session or messages for a client that is not connected. It stores nothing
// (emitter's `ttl` storage and `last` replay are left out), runs no cluster,
// and does not check keys cryptographically: a key is a name in Keys.
package emittertest

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// Grant is what a channel key allows.
type Grant struct {
	// Channel is the channel prefix the key covers, e.g. "chat/"; a topic's
	// channel must start with it.
	Channel string
	// Read allows subscribing, Write publishing.
	Read, Write bool
}

// Options configure a Broker.
type Options struct {
	// Keys are the channel keys the broker accepts.
	Keys map[string]Grant
	// Username and Password, when Username is set, are the only credentials
	// a CONNECT is accepted with (CONNACK 5, not authorized, otherwise), as a
	// broker configured to check them.
	Username, Password string
}

// Connect is what a client sent in its CONNECT.
type Connect struct {
	ClientID, Username, Password string
	CleanSession                 bool
}

// Broker is a running stand-in. Its methods are safe for concurrent use.
type Broker struct {
	opts Options
	wrap func(net.Listener) net.Listener

	mu       sync.Mutex
	addr     string
	ln       net.Listener
	conns    map[*client]bool
	connects []Connect
	wg       sync.WaitGroup
}

// client is one connection.
type client struct {
	conn net.Conn
	wmu  sync.Mutex
	subs map[string]bool // channels subscribed to, without key
}

// Start listens on a free port of 127.0.0.1 and serves until Stop; wrap,
// when not nil, wraps the listener (tls.NewListener).
func Start(opts Options, wrap func(net.Listener) net.Listener) (*Broker, error) {
	b := &Broker{opts: opts, wrap: wrap, conns: map[*client]bool{}}
	if err := b.listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return b, nil
}

// Addr is the broker's host:port; it stays the same across Restart.
func (b *Broker) Addr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addr
}

// Connects lists the CONNECT packets the broker accepted or refused, in order.
func (b *Broker) Connects() []Connect {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Connect(nil), b.connects...)
}

// Subscribers counts the connections subscribed to a channel (without key).
func (b *Broker) Subscribers(channel string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for c := range b.conns {
		if c.subs[channel] {
			n++
		}
	}
	return n
}

func (b *Broker) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("emittertest: listening on %s: %w", addr, err)
	}
	b.mu.Lock()
	b.addr = ln.Addr().String()
	if b.wrap != nil {
		ln = b.wrap(ln)
	}
	b.ln = ln
	b.mu.Unlock()
	b.wg.Add(1)
	go b.accept(ln)
	return nil
}

// Stop closes the listener and every connection abruptly, and waits for
// their goroutines.
func (b *Broker) Stop() {
	b.mu.Lock()
	ln := b.ln
	b.ln = nil
	for c := range b.conns {
		_ = c.conn.Close()
	}
	b.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	b.wg.Wait()
}

// Restart listens again on the address of the stopped broker.
func (b *Broker) Restart() error {
	var err error
	for range 50 { // the port may linger briefly after Stop
		if err = b.listen(b.Addr()); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

func (b *Broker) accept(ln net.Listener) {
	defer b.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		c := &client{conn: conn, subs: map[string]bool{}}
		b.mu.Lock()
		if b.ln != ln {
			b.mu.Unlock()
			_ = conn.Close()
			return
		}
		b.conns[c] = true
		b.wg.Add(1)
		b.mu.Unlock()
		go b.serve(c)
	}
}

// Packet types of MQTT 3.1.1 (the high nibble of the first byte).
const (
	typeConnect     = 1
	typeConnack     = 2
	typePublish     = 3
	typePuback      = 4
	typeSubscribe   = 8
	typeSuback      = 9
	typeUnsubscribe = 10
	typeUnsuback    = 11
	typePingreq     = 12
	typePingresp    = 13
	typeDisconnect  = 14
)

func (b *Broker) serve(c *client) {
	defer b.wg.Done()
	defer func() {
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
		_ = c.conn.Close()
	}()
	r := bufio.NewReader(c.conn)
	connected := false
	for {
		header, body, err := readPacket(r)
		if err != nil {
			return
		}
		kind := header >> 4
		if !connected && kind != typeConnect {
			return
		}
		switch kind {
		case typeConnect:
			code, err := b.onConnect(body)
			if err != nil || c.write(typeConnack<<4, []byte{0, code}) != nil || code != 0 {
				return
			}
			connected = true
		case typeSubscribe:
			if b.onSubscribe(c, body) != nil {
				return
			}
		case typeUnsubscribe:
			if b.onUnsubscribe(c, body) != nil {
				return
			}
		case typePublish:
			if b.onPublish(c, header, body) != nil {
				return
			}
		case typePingreq:
			if c.write(typePingresp<<4, nil) != nil {
				return
			}
		case typeDisconnect:
			return
		case typePuback:
			// The stand-in sends at QoS 0 only; a stray PUBACK is ignored.
		default:
			return
		}
	}
}

// onConnect reads a CONNECT and returns its CONNACK return code.
func (b *Broker) onConnect(body []byte) (byte, error) {
	p := packetReader{buf: body}
	proto, level, flags := p.str(), p.byte(), p.byte()
	p.uint16() // keep alive
	cn := Connect{ClientID: p.str(), CleanSession: flags&0x02 != 0}
	if flags&0x04 != 0 { // will topic and message
		p.str()
		p.str()
	}
	if flags&0x80 != 0 {
		cn.Username = p.str()
	}
	if flags&0x40 != 0 {
		cn.Password = p.str()
	}
	if p.err != nil {
		return 0, p.err
	}
	b.mu.Lock()
	b.connects = append(b.connects, cn)
	b.mu.Unlock()
	switch {
	case proto != "MQTT" || level != 4:
		return 1, nil // unacceptable protocol version
	case b.opts.Username != "" && (cn.Username != b.opts.Username || cn.Password != b.opts.Password):
		return 5, nil // not authorized
	}
	return 0, nil
}

// onSubscribe answers a SUBSCRIBE: each topic whose key grants read on its
// channel is subscribed at the QoS asked; another gets 0x80 and an error
// message on emitter/error/, as emitter answers.
func (b *Broker) onSubscribe(c *client, body []byte) error {
	p := packetReader{buf: body}
	id := p.uint16()
	var codes []byte
	for p.err == nil && len(p.buf) > 0 {
		topic, qos := p.str(), p.byte()
		channel, status := b.authorize(topic, true)
		if status != 0 {
			codes = append(codes, 0x80)
			if err := c.sendError(id, status); err != nil {
				return err
			}
			continue
		}
		b.mu.Lock()
		c.subs[channel] = true
		b.mu.Unlock()
		codes = append(codes, qos)
	}
	if p.err != nil {
		return p.err
	}
	return c.write(typeSuback<<4, append(binary.BigEndian.AppendUint16(nil, id), codes...))
}

func (b *Broker) onUnsubscribe(c *client, body []byte) error {
	p := packetReader{buf: body}
	id := p.uint16()
	for p.err == nil && len(p.buf) > 0 {
		topic := p.str()
		if channel, status := b.authorize(topic, true); status == 0 {
			b.mu.Lock()
			delete(c.subs, channel)
			b.mu.Unlock()
		}
	}
	if p.err != nil {
		return p.err
	}
	return c.write(typeUnsuback<<4, binary.BigEndian.AppendUint16(nil, id))
}

// onPublish forwards a PUBLISH whose key grants write to every subscriber of
// a matching channel, at QoS 0, and acknowledges QoS 1 (also when refused, as
// emitter does after reporting the error).
func (b *Broker) onPublish(c *client, header byte, body []byte) error {
	qos := (header >> 1) & 0x03
	p := packetReader{buf: body}
	topic := p.str()
	var id uint16
	if qos > 0 {
		id = p.uint16()
	}
	if p.err != nil {
		return p.err
	}
	channel, status := b.authorize(topic, false)
	if status != 0 {
		if err := c.sendError(id, status); err != nil {
			return err
		}
	} else {
		b.Publish(channel, p.buf)
	}
	if qos > 0 {
		return c.write(typePuback<<4, binary.BigEndian.AppendUint16(nil, id))
	}
	return nil
}

// Publish sends payload to every subscriber of a channel matching channel
// (without key, e.g. "chat/"), at QoS 0, as a client publishing with a key
// that grants write would. It returns once every subscriber's connection
// took the message.
func (b *Broker) Publish(channel string, payload []byte) {
	b.mu.Lock()
	var to []*client
	for c := range b.conns {
		for sub := range c.subs {
			if matches(sub, channel) {
				to = append(to, c)
				break
			}
		}
	}
	b.mu.Unlock()
	for _, c := range to {
		_ = c.publish(channel, payload)
	}
}

// authorize splits topic into key and channel and checks the key grants
// read (or write) on the channel; status is 0 when it does, else the HTTP
// status emitter reports (400 for a malformed channel, 401 unauthorized).
func (b *Broker) authorize(topic string, read bool) (channel string, status int) {
	if i := strings.IndexByte(topic, '?'); i >= 0 {
		topic = topic[:i] // options such as ttl or last are not kept
	}
	key, channel, ok := strings.Cut(topic, "/")
	if !ok || key == "" || !validChannel(channel, read) {
		return "", 400
	}
	g, known := b.opts.Keys[key]
	if !known || (read && !g.Read) || (!read && !g.Write) || !strings.HasPrefix(channel, g.Channel) {
		return "", 401
	}
	return channel, 0
}

// validChannel tells whether channel is segments ended by "/", none empty;
// a subscription may use "+" or "#" as a whole segment.
func validChannel(channel string, wildcards bool) bool {
	if !strings.HasSuffix(channel, "/") {
		return false
	}
	for _, seg := range strings.Split(strings.TrimSuffix(channel, "/"), "/") {
		if seg == "" || (!wildcards && (seg == "+" || seg == "#")) {
			return false
		}
		if strings.ContainsAny(seg, "+#*") && len(seg) > 1 {
			return false
		}
	}
	return true
}

// matches tells whether a subscription to sub receives a message on channel:
// emitter's channels are hierarchical, so "a/" receives "a/b/"; "+" matches
// one segment and "#" the rest.
func matches(sub, channel string) bool {
	s := strings.Split(strings.TrimSuffix(sub, "/"), "/")
	m := strings.Split(strings.TrimSuffix(channel, "/"), "/")
	for i, seg := range s {
		if seg == "#" {
			return true
		}
		if i >= len(m) || (seg != "+" && seg != m[i]) {
			return false
		}
	}
	return true
}

// errorMessage is the JSON of a message on emitter/error/.
type errorMessage struct {
	Request uint16 `json:"req,omitempty"`
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// sendError sends emitter's error message for a request.
func (c *client) sendError(id uint16, status int) error {
	text := "the request was invalid or cannot be otherwise served"
	if status == 401 {
		text = "the security key provided is not authorized to perform this operation"
	}
	payload, err := json.Marshal(errorMessage{Request: id, Status: status, Message: text})
	if err != nil {
		return err
	}
	return c.publish("emitter/error/", payload)
}

// publish writes a QoS 0 PUBLISH.
func (c *client) publish(topic string, payload []byte) error {
	body := binary.BigEndian.AppendUint16(nil, uint16(len(topic)))
	body = append(append(body, topic...), payload...)
	return c.write(typePublish<<4, body)
}

// write sends one packet within a bounded time.
func (c *client) write(header byte, body []byte) error {
	pkt := []byte{header}
	n := len(body)
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		pkt = append(pkt, d)
		if n == 0 {
			break
		}
	}
	pkt = append(pkt, body...)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := c.conn.Write(pkt)
	return err
}

// readPacket reads one packet's first byte and its body.
func readPacket(r *bufio.Reader) (byte, []byte, error) {
	header, err := r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, mult := 0, 1
	for i := 0; ; i++ {
		d, err := r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n += int(d&0x7f) * mult
		if d&0x80 == 0 {
			break
		}
		if i == 3 {
			return 0, nil, errors.New("emittertest: malformed remaining length")
		}
		mult *= 128
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return header, body, nil
}

// packetReader reads the fields of a packet body; the first short read sets err.
type packetReader struct {
	buf []byte
	err error
}

func (p *packetReader) need(n int) bool {
	if p.err == nil && len(p.buf) < n {
		p.err = errors.New("emittertest: packet too short")
	}
	return p.err == nil
}

func (p *packetReader) byte() byte {
	if !p.need(1) {
		return 0
	}
	v := p.buf[0]
	p.buf = p.buf[1:]
	return v
}

func (p *packetReader) uint16() uint16 {
	if !p.need(2) {
		return 0
	}
	v := binary.BigEndian.Uint16(p.buf)
	p.buf = p.buf[2:]
	return v
}

func (p *packetReader) str() string {
	n := int(p.uint16())
	if !p.need(n) {
		return ""
	}
	v := string(p.buf[:n])
	p.buf = p.buf[n:]
	return v
}
