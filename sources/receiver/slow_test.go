package receiver_test

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

	"github.com/flintevents/flint/sources/receiver"
)

// echoRoute runs a receiver with one route, /hook, answering 200 with the
// length of the body it read, and returns its address.
func echoRoute(t *testing.T) string {
	t.Helper()
	r := receiver.New(receiver.Options{Host: "127.0.0.1"})
	rt, fe := r.Route(receiver.RouteSpec{Field: "spec.webhook[hook]", Port: "0", Endpoint: "/hook", Method: "POST"})
	if fe != nil {
		t.Fatal(fe)
	}
	if _, err := rt.Attach(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, err := receiver.ReadBody(req)
		if err != nil {
			receiver.Reply(w, http.StatusBadRequest, err.Error())
			return
		}
		receiver.Reply(w, http.StatusOK, fmt.Sprint(len(b)))
	})); err != nil {
		t.Fatal(err)
	}
	run(t, r)
	return r.Addr("0").String()
}

// dribble sends the headers of a POST /hook of size bytes, then its body in
// chunks of chunk bytes, one every every, and returns the status of the
// answer (0 when the connection ended without one) and when it came.
func dribble(ctx context.Context, addr string, size, chunk int, every time.Duration) (int, time.Duration, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	start := time.Now()
	if _, err := fmt.Fprintf(conn, "POST /hook HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", addr, size); err != nil {
		return 0, 0, err
	}
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			close(answered)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		answered <- resp
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	for sent := 0; ; {
		if sent < size {
			n := min(chunk, size-sent)
			if _, err := conn.Write([]byte(strings.Repeat("a", n))); err != nil {
				resp := <-answered
				if resp == nil {
					return 0, time.Since(start), nil
				}
				return resp.StatusCode, time.Since(start), nil
			}
			sent += n
		}
		select {
		case resp := <-answered:
			if resp == nil {
				return 0, time.Since(start), nil
			}
			return resp.StatusCode, time.Since(start), nil
		case <-ctx.Done():
			return 0, time.Since(start), ctx.Err()
		case <-t.C:
		}
	}
}

// TestSlowBodyIsCut: a body slower than MinBodyRate once BodyGrace is over is
// answered 408; one at a few KiB/s for longer than the grace is served.
func TestSlowBodyIsCut(t *testing.T) {
	t.Parallel()
	addr := echoRoute(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel) // after the parallel cases
	tests := []struct {
		name    string
		size    int
		chunk   int
		every   time.Duration
		want    int
		atLeast time.Duration
		atMost  time.Duration
	}{
		{name: "a byte every 500ms", size: 100, chunk: 1, every: 500 * time.Millisecond,
			want: http.StatusRequestTimeout, atLeast: receiver.BodyGrace, atMost: receiver.BodyGrace + 2*time.Second},
		{name: "4 KiB/s for 3s", size: 12 << 10, chunk: 1 << 10, every: 250 * time.Millisecond,
			want: http.StatusOK, atLeast: 2 * time.Second, atMost: 10 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, took, err := dribble(ctx, addr, tc.size, tc.chunk, tc.every)
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.want || took < tc.atLeast || took > tc.atMost {
				t.Errorf("answered %d after %s, want %d after %s to %s", status, took.Round(time.Millisecond), tc.want, tc.atLeast, tc.atMost)
			}
		})
	}
}

// TestSlowClientsDoNotStarveOthers: 1,100 clients, more than the port's
// connection cap, send their headers and then a byte of body every 3 s,
// connecting again whenever they are cut; a normal request is still served
// promptly, before and after the slow bodies' grace is over.
func TestSlowClientsDoNotStarveOthers(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 2,200 loopback connections")
	}
	addr := echoRoute(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel: every slow client has stopped
	defer cancel()

	const slow = 1100
	var connected, cut atomic.Int64
	for range slow {
		wg.Go(func() {
			for first := true; ctx.Err() == nil; first = false {
				if first {
					connected.Add(1)
				}
				status, _, err := dribble(ctx, addr, 1000, 1, 3*time.Second)
				if err == nil && status == http.StatusRequestTimeout {
					cut.Add(1)
				}
			}
		})
	}
	for connected.Load() < slow {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // every slot taken by a slow body still in its grace

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var worst time.Duration
	for i := range 6 {
		start := time.Now()
		resp, err := client.Post("http://"+addr+"/hook", "application/json", strings.NewReader(`{"n":1}`))
		took := time.Since(start)
		if err != nil {
			t.Fatalf("normal request %d: %v after %s", i, err, took)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("normal request %d: status %d, want 200", i, resp.StatusCode)
		}
		worst = max(worst, took)
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("with %d slow clients (%d cut with 408 so far), a normal request took at most %s", slow, cut.Load(), worst.Round(time.Millisecond))
	if worst > 2*time.Second {
		t.Errorf("a normal request took %s among slow clients, want under 2s", worst)
	}
}
