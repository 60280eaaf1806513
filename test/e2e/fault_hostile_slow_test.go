package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// dribbleOrder sends the headers of a POST /orders of size bytes to addr,
// then its body a byte every every, and returns the status of the answer (0
// when the connection ended without one) and when it came.
func dribbleOrder(ctx context.Context, addr string, size int, every time.Duration) (int, time.Duration, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	start := time.Now()
	if _, err := fmt.Fprintf(conn, "POST /orders HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, size); err != nil {
		return 0, 0, err
	}
	answered := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- 0
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for sent := 0; ; {
		if sent < size {
			if _, err := conn.Write([]byte{' '}); err != nil {
				return <-answered, time.Since(start), nil
			}
			sent++
		}
		select {
		case status := <-answered:
			return status, time.Since(start), nil
		case <-ctx.Done():
			return 0, time.Since(start), ctx.Err()
		case <-tick.C:
		}
	}
}

// TestFaultHostileSlowBodyIsCut: the real binary answers a body dribbled at
// 2 bytes a second with 408 once its grace is over, and the webhook serves
// the next order.
func TestFaultHostileSlowBodyIsCut(t *testing.T) {
	t.Parallel()
	f := newFaultRun(t, 0)
	dev := f.start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status, took, err := dribbleOrder(ctx, fmt.Sprintf("127.0.0.1:%d", f.port), 100, 500*time.Millisecond)
	if err != nil {
		t.Fatalf("slow body: %v after %s", err, took)
	}
	if status != http.StatusRequestTimeout {
		t.Fatalf("a body at 2 bytes a second answered %d after %s, want 408", status, took.Round(time.Millisecond))
	}
	b := runBurst(f.hook, "after-slow", 1, 0, nil)
	if len(b.accepted) != 1 {
		t.Fatalf("the webhook refused an order after the slow body\n%s", tail(dev.output(), 6000))
	}
	f.rc.waitAll(t, dev, b.accepted, 20*time.Second)
	t.Logf("a body at 2 bytes a second answered 408 after %s", took.Round(time.Millisecond))
}

// TestFaultHostileSlowClientsDoNotStarveOthers: 1,100 clients, more than a
// port's connection cap of 1,024, send their headers and then a byte of body
// every 3 s, connecting again whenever they are cut; orders sent meanwhile
// are answered 200 and delivered.
func TestFaultHostileSlowClientsDoNotStarveOthers(t *testing.T) {
	if testing.Short() {
		t.Skip("opens more than 2,200 loopback connections")
	}
	const slow, orders = 1100, 6
	f := newFaultRun(t, 0)
	dev := f.start(t, nil)
	addr := fmt.Sprintf("127.0.0.1:%d", f.port)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel: every slow client has stopped
	defer cancel()
	var connected, cut atomic.Int64
	for range slow {
		wg.Go(func() {
			for first := true; ctx.Err() == nil; first = false {
				if first {
					connected.Add(1)
				}
				status, _, err := dribbleOrder(ctx, addr, 1000, 3*time.Second)
				if err == nil && status == http.StatusRequestTimeout {
					cut.Add(1)
				}
			}
		})
	}
	for connected.Load() < slow {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // every slot taken by a slow body

	var accepted []string
	var worst time.Duration
	for i := range orders {
		start := time.Now()
		b := runBurst(f.hook, fmt.Sprintf("among-slow-%d", i), 1, 0, nil)
		took := time.Since(start)
		if len(b.accepted) != 1 {
			t.Fatalf("order %d among %d slow clients not accepted (after %s)\n%s", i, slow, took, tail(dev.output(), 6000))
		}
		accepted = append(accepted, b.accepted...)
		worst = max(worst, took)
		time.Sleep(500 * time.Millisecond)
	}
	f.rc.waitAll(t, dev, accepted, 30*time.Second)
	t.Logf("with %d slow clients (%d cut with 408 so far), each of %d orders answered 200 within %s and delivered",
		slow, cut.Load(), orders, worst.Round(time.Millisecond))
}

// TestFaultHostileHalfClose: a client that sends its whole order and then
// half-closes the connection (shuts down its write side) still gets its
// answer, 200, and the order is delivered once.
func TestFaultHostileHalfClose(t *testing.T) {
	t.Parallel()
	const n = 20
	f := newFaultRun(t, 0)
	dev := f.start(t, nil)
	addr := fmt.Sprintf("127.0.0.1:%d", f.port)
	var accepted []string
	for i := range n {
		id := fmt.Sprintf("half-%02d", i)
		body := fmt.Sprintf(`{"kind":"order","id":%q,"amount":50}`, id)
		conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := fmt.Fprintf(conn, "POST /orders HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nX-Customer: acme\r\nContent-Length: %d\r\n\r\n%s",
			addr, len(body), body); err != nil {
			t.Fatal(err)
		}
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("order %s, half-closed: no answer: %v\n%s", id, err, tail(dev.output(), 6000))
		}
		reply, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("order %s, half-closed: got %d %q, want 200", id, resp.StatusCode, strings.TrimSpace(string(reply)))
		}
		accepted = append(accepted, id)
	}
	f.rc.waitAll(t, dev, accepted, 30*time.Second)
	time.Sleep(time.Second) // a duplicate would arrive by now
	count := map[string]int{}
	for _, d := range f.rc.deliveries() {
		count[d.id]++
	}
	for _, id := range accepted {
		if count[id] != 1 {
			t.Errorf("order %s delivered %d times, want once", id, count[id])
		}
	}
}
