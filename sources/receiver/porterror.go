package receiver

import (
	"errors"
	"fmt"
	"syscall"
)

// PortError is a port Run could not bind, named after the route that asked
// for it first (in endpoint order), so that a caller can point at the
// EventSource field that set the port.
type PortError struct {
	// Port is the port number as the routes name it.
	Port string
	// Addr is the address Run tried to bind, e.g. "127.0.0.1:12000".
	Addr string
	// EventSource and Field name the route's owner, e.g. "webhook" and
	// "spec.webhook[example]"; both are empty for a port that only answers
	// /health.
	EventSource, Field string
	// Err is what binding answered.
	Err error
}

// InUse reports whether something else already listens on the port.
func (e *PortError) InUse() bool { return errors.Is(e.Err, syscall.EADDRINUSE) }

// Reason says what went wrong without naming the owner:
// "port 12000 is in use (127.0.0.1:12000)", or the bind error.
func (e *PortError) Reason() string {
	if e.InUse() {
		return fmt.Sprintf("port %s is in use (%s)", e.Port, e.Addr)
	}
	return fmt.Sprintf("listening on port %s (%s): %v", e.Port, e.Addr, e.Err)
}

// Error names the owner's port field and the reason, e.g.
// "spec.webhook[example].port of EventSource webhook: port 12000 is in use (127.0.0.1:12000)".
func (e *PortError) Error() string {
	if e.Field == "" {
		return e.Reason()
	}
	owner := e.Field + ".port"
	if e.EventSource != "" {
		owner += " of EventSource " + e.EventSource
	}
	return owner + ": " + e.Reason()
}

// Unwrap returns the bind error.
func (e *PortError) Unwrap() error { return e.Err }
