// Command flint runs Argo Events EventSources and Sensors on Knative, or all in
// one process on a laptop with `flint dev`.
package main

import (
	"os"

	"github.com/flintevents/flint/pkg/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
