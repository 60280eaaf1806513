// Package freeport hands tests loopback ports that nothing else will take
// between the moment they are chosen and the moment a server binds them.
//
// Asking the kernel for port 0 and closing the listener returns a port from
// the ephemeral range, the same range the kernel gives every outgoing
// connection: a client dialling anything in the meantime can take it. The
// ports here come from below that range, where only explicit binds land.
package freeport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// lowest is the first port handed out: above the well-known and the commonly
// configured service ports.
const lowest = 20000

// fallbackEphemeral is the start of the ephemeral range where the kernel does
// not say (Linux's default).
const fallbackEphemeral = 32768

// attempts is how many random ports are tried before giving up.
const attempts = 200

// TB is the part of testing.TB this package uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Port returns a loopback TCP port that was free a moment ago and that the
// kernel will not give to an outgoing connection. It fails the test when none
// is found.
func Port(t TB) int {
	t.Helper()
	p, err := Find()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return p
}

// Find returns a loopback TCP port below the kernel's ephemeral range that
// could be bound a moment ago.
func Find() (int, error) {
	high := ephemeralStart()
	if high <= lowest {
		high = fallbackEphemeral
	}
	for range attempts {
		p := lowest + rand.IntN(high-lowest)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		if err := ln.Close(); err != nil {
			return 0, fmt.Errorf("freeport: closing probe on %d: %w", p, err)
		}
		return p, nil
	}
	return 0, errors.New("freeport: no free loopback port found below the ephemeral range")
}

// ephemeralStart reads where the kernel's ephemeral range begins.
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return fallbackEphemeral
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return fallbackEphemeral
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return fallbackEphemeral
	}
	return n
}
