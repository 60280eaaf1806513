// A stand-in of func's Go scaffolding for CloudEvents functions, which the
// build test writes into the wrapper module as func's builders do: it serves
// the function's Handle at / and func's health endpoints, on LISTEN_ADDRESS.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	f "function"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	p, err := cloudevents.NewHTTP()
	if err != nil {
		return err
	}
	h, err := cloudevents.NewHTTPReceiveHandler(ctx, p, f.Handle)
	if err != nil {
		return err
	}
	ok := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
	mux := http.NewServeMux()
	mux.HandleFunc("/health/readiness", ok)
	mux.HandleFunc("/health/liveness", ok)
	mux.Handle("/", h)
	srv := &http.Server{Addr: os.Getenv("LISTEN_ADDRESS"), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}
