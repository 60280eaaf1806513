package sensor

import (
	"errors"
	"strings"
	"sync"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// errNoValue is returned when a template renders to "" or "<no value>", which
// Argo Events counts as a failed template.
var errNoValue = errors.New("template evaluated to an empty string or no value")

// templateFuncs is the function map of every template: sprig, as in Argo
// Events, without env and expandenv so that templates cannot read the
// process environment (where flint keeps secrets). Built once, never modified.
var templateFuncs = sync.OnceValue(func() template.FuncMap {
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	return funcs
})

// compileTemplate parses a Go text/template with the sprig functions.
func compileTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(templateFuncs()).Parse(text)
}

// renderTemplate executes t with {"Input": input} as Argo Events does; an
// empty or "<no value>" result is errNoValue.
func renderTemplate(t *template.Template, input any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, map[string]any{"Input": input}); err != nil {
		return "", err
	}
	out := b.String()
	if out == "" || out == "<no value>" {
		return "", errNoValue
	}
	return out, nil
}
