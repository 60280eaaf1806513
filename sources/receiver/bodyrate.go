package receiver

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// Body rate limits, as reverse proxies enforce them: a client that dribbles its
// body holds a connection for nothing.
const (
	// BodyGrace is how long a request body may take before MinBodyRate applies.
	BodyGrace = 2 * time.Second
	// MinBodyRate is the slowest a body may arrive after BodyGrace, in bytes
	// per second on average since its start; a slower one is cut and answered 408.
	MinBodyRate = 1024
	// EvictAfter is how long a connection is left alone before a new one may
	// take its slot when every slot is taken.
	EvictAfter = 250 * time.Millisecond
)

// ErrSlowBody is the error of a body read cut for arriving slower than
// MinBodyRate, or for giving up its connection's slot to a new client.
var ErrSlowBody = errors.New("request body too slow")

// bodyRate reads a request body on an HTTP/1 connection under a deadline
// that keeps it at MinBodyRate after BodyGrace (and within limit). When the
// deadline passes or the connection is evicted, it answers 408 through g and
// every further read fails with ErrSlowBody.
type bodyRate struct {
	body  io.ReadCloser
	conn  *slotConn
	g     *guard
	start time.Time
	limit time.Time
	n     int64
	err   error
}

func newBodyRate(body io.ReadCloser, conn *slotConn, g *guard, readTimeout time.Duration) *bodyRate {
	now := time.Now()
	return &bodyRate{body: body, conn: conn, g: g, start: now, limit: now.Add(readTimeout)}
}

// deadline is when byte n+1 is due.
func (b *bodyRate) deadline() time.Time {
	due := b.start.Add(BodyGrace + time.Duration(float64(b.n+1)/MinBodyRate*float64(time.Second)))
	if due.After(b.limit) {
		return b.limit
	}
	return due
}

// Read implements io.Reader.
func (b *bodyRate) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if !b.conn.beginRead(b.deadline()) {
		return 0, b.cut()
	}
	n, err := b.body.Read(p)
	b.n += int64(n)
	b.conn.endRead(n, err == io.EOF, b.limit)
	if err != nil && err != io.EOF && errors.Is(err, os.ErrDeadlineExceeded) {
		return n, b.cut()
	}
	return n, err
}

// cut answers 408 and fails every further read.
func (b *bodyRate) cut() error {
	b.err = fmt.Errorf("%w: %d bytes in %s, want %d bytes/s after %s", ErrSlowBody, b.n, time.Since(b.start).Round(time.Millisecond), MinBodyRate, BodyGrace)
	b.g.answer(http.StatusRequestTimeout, ErrSlowBody.Error())
	return b.err
}

// Close implements io.Closer.
func (b *bodyRate) Close() error { return b.body.Close() }

// guard is the ResponseWriter of a request whose body read may be cut: once
// the cut is answered, what the handler writes is dropped.
type guard struct {
	http.ResponseWriter
	mu       sync.Mutex
	answered bool // the cut was answered; the handler's writes are dropped
	wrote    bool // a status was written
}

// answer writes status and msg and closes the connection after, unless the
// handler answered already.
func (g *guard) answer(status int, msg string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.wrote {
		return
	}
	g.answered, g.wrote = true, true
	g.ResponseWriter.Header().Set("Connection", "close")
	Reply(g.ResponseWriter, status, msg)
}

// WriteHeader implements http.ResponseWriter.
func (g *guard) WriteHeader(status int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.answered {
		return
	}
	g.wrote = true
	g.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (g *guard) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.answered {
		return len(p), nil
	}
	g.wrote = true
	return g.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (g *guard) Unwrap() http.ResponseWriter { return g.ResponseWriter }
