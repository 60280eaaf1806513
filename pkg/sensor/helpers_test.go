package sensor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
)

// problems lists the problems of a FieldError as `flint validate` shows
// them: "path: message; details", sorted; nil for no error.
func problems(err error) []string {
	var fe *apis.FieldError
	if !errors.As(err, &fe) || fe == nil {
		if err == nil {
			return nil
		}
		return []string{err.Error()}
	}
	var out []string
	for _, e := range fe.WrappedErrors() {
		reason := e.Message
		if e.Details != "" {
			reason += "; " + strings.Join(strings.Fields(e.Details), " ")
		}
		for _, p := range e.Paths {
			out = append(out, p+": "+reason)
		}
	}
	sort.Strings(out)
	return out
}

// flat turns a (possibly nil) FieldError into a plain error of its
// problems, one per line, or nil.
func flat(fe *apis.FieldError) error {
	if fe == nil {
		return nil
	}
	return errors.New(strings.Join(problems(fe), "\n"))
}

// depsOf accepts the dependency names the parameters use.
func depsOf(params ...v1alpha1.TriggerParameter) map[string]bool {
	deps := map[string]bool{}
	for _, p := range params {
		if p.Src != nil {
			deps[p.Src.DependencyName] = true
		}
	}
	return deps
}

// resolveParameter compiles and resolves one parameter source.
func resolveParameter(src *v1alpha1.TriggerParameterSource, events map[string]*event.Event) (value string, raw, ok bool, err error) {
	s, ferr := compileSource(src, depsOf(v1alpha1.TriggerParameter{Src: src}))
	if ferr != nil {
		return "", false, false, flat(ferr)
	}
	v, ok, err := s.resolve(&resolver{events: events})
	return v.text, v.raw, ok, err
}

// applyParameters compiles a `parameters` list and applies it to doc.
func applyParameters(doc []byte, params []v1alpha1.TriggerParameter, events map[string]*event.Event) ([]byte, error) {
	p, ferr := compileParameters(params, depsOf(params...), true)
	if ferr != nil {
		return nil, flat(ferr.ViaField("parameters"))
	}
	out, err := p.apply(context.Background(), doc, events)
	if err != nil {
		return nil, fmt.Errorf("parameters%w", err)
	}
	return out, nil
}

// buildPayload compiles a `payload` list and builds the payload.
func buildPayload(params []v1alpha1.TriggerParameter, events map[string]*event.Event) ([]byte, error) {
	p, ferr := compileParameters(params, depsOf(params...), false)
	if ferr != nil {
		return nil, flat(ferr.ViaField("payload"))
	}
	out, err := p.payload(context.Background(), events)
	if err != nil {
		return nil, fmt.Errorf("payload%w", err)
	}
	return out, nil
}
