package host

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Exec is the whole main of a source type's image: it runs Main with the
// process's arguments and environment until SIGINT or SIGTERM, and exits
// non-zero with the error on stderr when Main fails.
func Exec(typeKey string) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Main(ctx, typeKey, os.Args[1:], os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, typeKey+":", err)
		os.Exit(1)
	}
}
