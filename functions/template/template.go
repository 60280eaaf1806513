// Package template is the kn func project that `flint compile` fills for
// each Sensor: func.yaml, go.mod, handle.go (the kn func Go CloudEvents
// entry point over functions/sensor), and handle_test.go. Each
// file is a text/template named "<file>.tmpl".
package template

import (
	"embed"
	"io/fs"
)

//go:embed *.tmpl
var files embed.FS

// Files returns the template files, each named "<project file>.tmpl".
func Files() fs.FS { return files }
