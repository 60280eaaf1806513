// Command flint runs Argo Events EventSources and Sensors on Knative, or all in
// one process on a laptop with `flint dev`.
package main

import (
	_ "embed"
	"os"

	"github.com/flintevents/flint/pkg/cli"
)

// goSum is flint's go.sum: `flint compile` writes it into each function
// project, whose modules are flint's.
//
//go:embed go.sum
var goSum []byte

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, cli.WithGoSum(goSum)))
}
