package sensor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"knative.dev/pkg/apis"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
	"github.com/flintevents/flint/pkg/jsonlimit"
	"github.com/flintevents/flint/pkg/jsontext"
)

// parameters is a compiled list of trigger parameters, their templates
// parsed once, for use with many events; it is safe for concurrent use.
type parameters struct {
	params []parameter
}

type parameter struct {
	dest   string
	op     v1alpha1.TriggerParameterOperation
	source *source
	// text sets the value as a JSON string even when it is raw JSON
	// (dynamic headers, whose values are header strings).
	text bool
}

// source is a compiled parameter source.
type source struct {
	src               *v1alpha1.TriggerParameterSource
	dataTmpl, ctxTmpl *userTemplate
}

var parameterOperations = []string{"", string(v1alpha1.TriggerParameterOpOverwrite),
	string(v1alpha1.TriggerParameterOpAppend), string(v1alpha1.TriggerParameterOpPrepend)}

// compileParameters compiles a `parameters` or `payload` list against the
// sensor's dependency names; destRequired is false for payload lists, where
// an empty dest is the whole payload. Problem paths are relative to the list
// (`[1].src.dataTemplate`). It returns nil for an empty list.
func compileParameters(params []v1alpha1.TriggerParameter, deps map[string]bool, destRequired bool) (*parameters, *apis.FieldError) {
	if len(params) == 0 {
		return nil, nil
	}
	p := &parameters{params: make([]parameter, 0, len(params))}
	var errs *apis.FieldError
	for i, prm := range params {
		var perrs *apis.FieldError
		if destRequired {
			perrs = requireString(prm.Dest, "dest")
		}
		perrs = perrs.Also(oneOf(string(prm.Operation), "operation", parameterOperations...))
		src, serr := compileSource(prm.Src, deps)
		perrs = perrs.Also(serr)
		errs = errs.Also(perrs.ViaIndex(i))
		if perrs == nil {
			p.params = append(p.params, parameter{dest: prm.Dest, op: prm.Operation, source: src})
		}
	}
	if errs != nil {
		return nil, errs
	}
	return p, nil
}

// compileSource compiles a parameter's `src`; problem paths start with `src`.
func compileSource(src *v1alpha1.TriggerParameterSource, deps map[string]bool) (*source, *apis.FieldError) {
	if src == nil {
		return nil, apis.ErrMissingField("src")
	}
	var errs *apis.FieldError
	if src.DependencyName == "" {
		errs = apis.ErrMissingField("dependencyName")
	} else if !deps[src.DependencyName] {
		errs = apis.ErrInvalidValue(src.DependencyName, "dependencyName", "unknown dependency")
	}
	s := &source{src: src}
	var err error
	if src.DataTemplate != "" {
		if s.dataTmpl, err = compileTemplate("dataTemplate", src.DataTemplate); err != nil {
			errs = errs.Also(apis.ErrInvalidValue(src.DataTemplate, "dataTemplate", err.Error()))
		}
	}
	if src.ContextTemplate != "" {
		if s.ctxTmpl, err = compileTemplate("contextTemplate", src.ContextTemplate); err != nil {
			errs = errs.Also(apis.ErrInvalidValue(src.ContextTemplate, "contextTemplate", err.Error()))
		}
	}
	return s, errs.ViaField("src")
}

// apply applies the parameters (src → dest with
// overwrite/append/prepend) to a JSON document, such as the trigger template
// JSON with dest `http.url`, and returns the new document; doc is not
// modified. Templates render within the evaluation budget of ctx. Errors
// name the parameter by its index in the list (`[0]: …`).
func (p *parameters) apply(ctx context.Context, doc []byte, events map[string]*event.Event) ([]byte, error) {
	r := resolver{ctx: ctx, events: events}
	for i := range p.params {
		prm := &p.params[i]
		val, ok, err := prm.source.resolve(&r)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		if !ok {
			continue
		}
		if prm.op == v1alpha1.TriggerParameterOpAppend || prm.op == v1alpha1.TriggerParameterOpPrepend {
			if cur := gjson.GetBytes(doc, prm.dest); cur.Exists() {
				val.raw = false
				if prm.op == v1alpha1.TriggerParameterOpAppend {
					val.text = cur.String() + val.text
				} else {
					val.text += cur.String()
				}
			}
		}
		if doc, err = set(doc, prm.dest, val, prm.source.src.UseRawData && !prm.text); err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
	}
	return doc, nil
}

// payload builds a trigger payload JSON from `payload` parameters, as
// Argo's ConstructPayload: values go to their dest in a new document, and a
// parameter with an empty dest is the whole payload. Templates render within
// the evaluation budget of ctx.
func (p *parameters) payload(ctx context.Context, events map[string]*event.Event) ([]byte, error) {
	r := resolver{ctx: ctx, events: events}
	var payload []byte
	for i := range p.params {
		prm := &p.params[i]
		val, ok, err := prm.source.resolve(&r)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		if !ok {
			continue
		}
		if prm.dest == "" {
			return []byte(val.text), nil
		}
		if payload, err = set(payload, prm.dest, val, prm.source.src.UseRawData); err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
	}
	return payload, nil
}

// set puts a value at dest: raw JSON when it is not a string and useRawData
// is set, a JSON string otherwise.
func set(doc []byte, dest string, val resolved, useRawData bool) ([]byte, error) {
	raw := val.raw && useRawData
	if len(doc) == 0 && plainKey(dest) {
		// The first value at a plain key: {"dest":value}, in one allocation.
		out := make([]byte, 0, len(dest)+len(val.text)+len(val.text)/8+8)
		out = append(append(append(out, `{"`...), dest...), `":`...)
		if raw {
			out = append(out, val.text...)
		} else {
			out = appendQuoted(out, val.text)
		}
		return append(out, '}'), nil
	}
	var out []byte
	var err error
	if raw {
		out, err = sjson.SetRawBytes(doc, dest, []byte(val.text))
	} else {
		out, err = sjson.SetRawBytes(doc, dest, appendQuoted(nil, val.text))
	}
	if err != nil {
		return nil, fmt.Errorf("setting %q: %w", dest, err)
	}
	return out, nil
}

// appendQuoted appends s as a JSON string exactly as sjson.SetBytes writes a
// string value: between quotes as it is when nothing in it needs escaping,
// else escaped as encoding/json escapes it (without its reflection).
func appendQuoted(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > 0x7f || c == '"' || c == '\\' {
			return jsontext.AppendString(dst, s)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// plainKey reports whether an sjson path is one object key that needs no
// escaping: a letter or '_', then letters, digits, '_' and '-'.
func plainKey(path string) bool {
	if path == "" {
		return false
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// resolved is a resolved parameter value; raw marks a JSON value that is not a string.
type resolved struct {
	text string
	raw  bool
}

// resolver resolves the parameters of one application, decoding each
// dependency's context and data at most once.
type resolver struct {
	ctx    context.Context
	events map[string]*event.Event
	cache  []*decoded
}

// decoded holds the JSON forms of one event. data is the event's own data
// when it is JSON, not a copy: it is only read.
type decoded struct {
	dep               string
	ctx, data         []byte
	ctxDone, dataDone bool
	dataErr           error
}

func (r *resolver) decoded(dep string) *decoded {
	for _, d := range r.cache {
		if d.dep == dep {
			return d
		}
	}
	d := &decoded{dep: dep}
	r.cache = append(r.cache, d)
	return d
}

func (d *decoded) context(ev *event.Event) []byte {
	if !d.ctxDone {
		c := argoContext(&ev.Context)
		d.ctx, _ = json.Marshal(&c) // cannot fail: strings and a time
		d.ctxDone = true
	}
	return d.ctx
}

func (d *decoded) dataJSON(ev *event.Event) ([]byte, error) {
	if !d.dataDone {
		d.data, d.dataErr = dataAsJSON(ev)
		d.dataDone = true
	}
	return d.data, d.dataErr
}

func (s *source) resolve(r *resolver) (resolved, bool, error) {
	src := s.src
	ev := r.events[src.DependencyName]
	if ev == nil {
		if src.Value != nil {
			return resolved{text: *src.Value}, true, nil
		}
		return resolved{}, false, nil
	}
	if src.ContextKey == "" && src.ContextTemplate == "" && src.DataKey == "" && src.DataTemplate == "" {
		if src.Value != nil {
			return resolved{text: *src.Value}, true, nil
		}
		b, err := json.Marshal(argoEvent{Context: argoContext(&ev.Context), Data: ev.Data})
		if err != nil {
			return resolved{}, false, fmt.Errorf("encoding the event of dependency %q: %w", src.DependencyName, err)
		}
		return resolved{text: string(b)}, true, nil
	}

	d := r.decoded(src.DependencyName)
	var (
		payload    []byte
		key, which string
		tmpl       *userTemplate
	)
	if src.DataKey != "" || src.DataTemplate != "" {
		key, which, tmpl = src.DataKey, "data", s.dataTmpl
		var err error
		if payload, err = d.dataJSON(ev); err != nil {
			if src.Value != nil {
				return resolved{text: *src.Value}, true, nil
			}
			return resolved{}, false, fmt.Errorf("dependency %q: %w", src.DependencyName, err)
		}
	} else {
		key, which, tmpl = src.ContextKey, "context", s.ctxTmpl
		payload = d.context(ev)
	}
	var errs []error
	if tmpl != nil {
		out, err := renderTemplate(r.ctx, tmpl, gjson.ParseBytes(payload).Value())
		if err == nil {
			return resolved{text: out}, true, nil
		}
		errs = append(errs, fmt.Errorf("%sTemplate: %w", which, err))
	}
	if key != "" {
		res := gjson.GetBytes(payload, key) // copies what it returns
		if res.Exists() {
			switch res.Type {
			case gjson.String:
				return resolved{text: res.Str}, true, nil
			case gjson.JSON, gjson.Null:
				return resolved{text: res.Raw, raw: true}, true, nil
			default:
				return resolved{text: res.String(), raw: true}, true, nil
			}
		}
		errs = append(errs, fmt.Errorf("%sKey %s: %w", which, key, ErrPathNotFound))
	}
	if src.Value != nil {
		return resolved{text: *src.Value}, true, nil
	}
	return resolved{}, false, fmt.Errorf("unable to resolve the parameter of dependency %q: %w",
		src.DependencyName, joinErrors(errs))
}

// argoEvent is an event as Argo Events marshals it: context, then data in base64.
type argoEvent struct {
	Context v1alpha1.EventContext `json:"context"`
	Data    []byte                `json:"data"`
}

// argoContext is the Argo form of an event context, whose time marshals as
// RFC 3339 in UTC with seconds precision (and null when unset).
func argoContext(c *event.Context) v1alpha1.EventContext {
	ac := v1alpha1.EventContext{
		ID:              c.ID,
		Source:          c.Source,
		SpecVersion:     c.SpecVersion,
		Type:            c.Type,
		DataContentType: c.DataContentType,
		Subject:         c.Subject,
	}
	ac.Time.Time = c.Time
	return ac
}

// dataAsJSON returns the event data as JSON, decoded per its content type:
// JSON as is (it must be valid), YAML converted; an empty content type is
// taken as JSON. JSON nested deeper than jsonlimit.DefaultMaxDepth levels is
// refused, after one linear check, before anything walks it.
func dataAsJSON(ev *event.Event) ([]byte, error) {
	ct := ev.Context.DataContentType
	mt := "application/json"
	if ct != "" && ct != mt {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, fmt.Errorf("unsupported event content type %q", ct)
		}
	}
	switch strings.ToLower(mt) {
	case "application/json":
		if err := jsonlimit.Check(ev.Data, jsonlimit.DefaultMaxDepth); err != nil {
			if errors.Is(err, jsonlimit.ErrTooDeep) {
				return nil, errDataTooDeep
			}
			return nil, ErrDataNotJSON
		}
		return ev.Data, nil
	case "application/yaml":
		b, err := yaml.YAMLToJSON(ev.Data)
		if err != nil {
			return nil, fmt.Errorf("converting YAML event data to JSON: %w", err)
		}
		if err := jsonlimit.Check(b, jsonlimit.DefaultMaxDepth); err != nil {
			return nil, errDataTooDeep
		}
		return b, nil
	default:
		return nil, fmt.Errorf("unsupported event content type %q", ct)
	}
}
