package freeport_test

import (
	"net"
	"strconv"
	"testing"

	"github.com/flintevents/flint/pkg/freeport"
)

func TestPortBindsAndStaysOutOfTheEphemeralRange(t *testing.T) {
	// Dial out a few times so the kernel hands out ephemeral ports; none of
	// the chosen ports may be one of them.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	outgoing := map[int]bool{}
	for range 20 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		outgoing[c.LocalAddr().(*net.TCPAddr).Port] = true
		defer c.Close()
	}
	for range 50 {
		p := freeport.Port(t)
		if outgoing[p] {
			t.Fatalf("port %d is one the kernel gave an outgoing connection", p)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d: %v", p, err)
		}
		l.Close()
	}
}
