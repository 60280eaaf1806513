package sensor

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
	"text/template"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/pkg/event"
)

// Parameters is a compiled list of trigger parameters, their templates parsed
// once, for use with many events; it is safe for concurrent use.
type Parameters struct {
	params []parameter
}

type parameter struct {
	dest   string
	op     v1alpha1.TriggerParameterOperation
	source *source
}

// source is a compiled parameter source. A template that does not parse is
// kept as its error: like a template that fails when run, it makes resolution
// fall back to the key or the default value, as in Argo Events.
type source struct {
	src                     *v1alpha1.TriggerParameterSource
	dataTmpl, ctxTmpl       *template.Template
	dataTmplErr, ctxTmplErr error
}

// CompileParameters compiles trigger parameters (`parameters` or `payload`)
// for repeated use; errors name the parameter, e.g. `[1].operation: …`.
func CompileParameters(params []v1alpha1.TriggerParameter) (*Parameters, error) {
	p := &Parameters{params: make([]parameter, 0, len(params))}
	var errs []error
	for i, prm := range params {
		switch prm.Operation {
		case v1alpha1.TriggerParameterOpNone, v1alpha1.TriggerParameterOpOverwrite,
			v1alpha1.TriggerParameterOpAppend, v1alpha1.TriggerParameterOpPrepend:
		default:
			errs = append(errs, atField(fmt.Sprintf("[%d].operation", i),
				fmt.Errorf("unsupported operation %q", prm.Operation)))
		}
		src, err := compileSource(prm.Src)
		if err != nil {
			errs = append(errs, atField(fmt.Sprintf("[%d].src", i), err))
			continue
		}
		p.params = append(p.params, parameter{dest: prm.Dest, op: prm.Operation, source: src})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

func compileSource(src *v1alpha1.TriggerParameterSource) (*source, error) {
	if src == nil {
		return nil, errors.New("must be set")
	}
	if src.DependencyName == "" {
		return nil, atField("dependencyName", errors.New("must not be empty"))
	}
	s := &source{src: src}
	if src.DataTemplate != "" {
		s.dataTmpl, s.dataTmplErr = compileTemplate("dataTemplate", src.DataTemplate)
	}
	if src.ContextTemplate != "" {
		s.ctxTmpl, s.ctxTmplErr = compileTemplate("contextTemplate", src.ContextTemplate)
	}
	return s, nil
}

// ApplyParameters applies Argo trigger parameters (src → dest with
// overwrite/append/prepend) to a JSON document, such as the trigger template
// JSON with dest `http.url`, and returns the new document; doc is not
// modified. It compiles params on every call: hot paths use CompileParameters.
func ApplyParameters(doc []byte, params []v1alpha1.TriggerParameter, events map[string]*event.Event) ([]byte, error) {
	p, err := CompileParameters(params)
	if err != nil {
		return nil, fmt.Errorf("parameters%w", err)
	}
	return p.Apply(doc, events)
}

// Payload builds a trigger payload JSON from `payload` parameters, as Argo's
// ConstructPayload: values go to their dest in a new document, and a
// parameter with an empty dest is the whole payload. It compiles params on
// every call: hot paths use CompileParameters.
func Payload(params []v1alpha1.TriggerParameter, events map[string]*event.Event) ([]byte, error) {
	p, err := CompileParameters(params)
	if err != nil {
		return nil, fmt.Errorf("payload%w", err)
	}
	return p.Payload(events)
}

// Apply applies the parameters to doc, as ApplyParameters.
func (p *Parameters) Apply(doc []byte, events map[string]*event.Event) ([]byte, error) {
	r := resolver{events: events}
	for i := range p.params {
		prm := &p.params[i]
		val, ok, err := prm.source.resolve(&r)
		if err != nil {
			return nil, fmt.Errorf("parameters[%d]: %w", i, err)
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
		if doc, err = set(doc, prm.dest, val, prm.source.src.UseRawData); err != nil {
			return nil, fmt.Errorf("parameters[%d]: %w", i, err)
		}
	}
	return doc, nil
}

// Payload builds a payload from the parameters, as the function Payload.
func (p *Parameters) Payload(events map[string]*event.Event) ([]byte, error) {
	r := resolver{events: events}
	var payload []byte
	for i := range p.params {
		prm := &p.params[i]
		val, ok, err := prm.source.resolve(&r)
		if err != nil {
			return nil, fmt.Errorf("payload[%d]: %w", i, err)
		}
		if !ok {
			continue
		}
		if prm.dest == "" {
			return []byte(val.text), nil
		}
		if payload, err = set(payload, prm.dest, val, prm.source.src.UseRawData); err != nil {
			return nil, fmt.Errorf("payload[%d]: %w", i, err)
		}
	}
	return payload, nil
}

// set puts a value at dest: raw JSON when it is not a string and useRawData
// is set, a JSON string otherwise.
func set(doc []byte, dest string, val resolved, useRawData bool) ([]byte, error) {
	var out []byte
	var err error
	if val.raw && useRawData {
		out, err = sjson.SetRawBytes(doc, dest, []byte(val.text))
	} else {
		out, err = sjson.SetBytes(doc, dest, val.text)
	}
	if err != nil {
		return nil, fmt.Errorf("setting %q: %w", dest, err)
	}
	return out, nil
}

// ResolveParameter resolves one parameter source to its value, as Argo's
// ResolveParamValue (see the package documentation for the order): ok is false
// when the parameter is skipped (no event for its dependency and no default),
// and raw is true when value is JSON other than a string, taken by dataKey or
// contextKey, which useRawData inserts as is.
func ResolveParameter(src *v1alpha1.TriggerParameterSource, events map[string]*event.Event) (value string, raw, ok bool, err error) {
	s, err := compileSource(src)
	if err != nil {
		return "", false, false, fmt.Errorf("src: %w", err)
	}
	v, ok, err := s.resolve(&resolver{events: events})
	return v.text, v.raw, ok, err
}

// resolved is a resolved parameter value; raw marks a JSON value that is not a string.
type resolved struct {
	text string
	raw  bool
}

// resolver resolves the parameters of one application, decoding each
// dependency's context and data at most once.
type resolver struct {
	events map[string]*event.Event
	cache  []*decoded
}

// decoded holds the JSON forms of one event.
type decoded struct {
	dep               string
	ctx, data         string
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

func (d *decoded) context(ev *event.Event) string {
	if !d.ctxDone {
		c := argoContext(&ev.Context)
		b, _ := json.Marshal(&c) // cannot fail: strings and a time
		d.ctx, d.ctxDone = string(b), true
	}
	return d.ctx
}

func (d *decoded) dataJSON(ev *event.Event) (string, error) {
	if !d.dataDone {
		b, err := dataAsJSON(ev)
		d.data, d.dataErr, d.dataDone = string(b), err, true
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
		payload    string
		key, which string
		tmpl       *template.Template
		tmplErr    error
	)
	if src.DataKey != "" || src.DataTemplate != "" {
		key, which, tmpl, tmplErr = src.DataKey, "data", s.dataTmpl, s.dataTmplErr
		var err error
		if payload, err = d.dataJSON(ev); err != nil {
			if src.Value != nil {
				return resolved{text: *src.Value}, true, nil
			}
			return resolved{}, false, fmt.Errorf("dependency %q: %w", src.DependencyName, err)
		}
	} else {
		key, which, tmpl, tmplErr = src.ContextKey, "context", s.ctxTmpl, s.ctxTmplErr
		payload = d.context(ev)
	}
	var errs []error
	if tmpl != nil || tmplErr != nil {
		if tmplErr == nil {
			out, err := renderTemplate(tmpl, gjson.Parse(payload).Value())
			if err == nil {
				return resolved{text: out}, true, nil
			}
			tmplErr = err
		}
		errs = append(errs, fmt.Errorf("%sTemplate: %w", which, tmplErr))
	}
	if key != "" {
		res := gjson.Get(payload, key)
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
// taken as JSON.
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
		if !json.Valid(ev.Data) {
			return nil, ErrDataNotJSON
		}
		return ev.Data, nil
	case "application/yaml":
		b, err := yaml.YAMLToJSON(ev.Data)
		if err != nil {
			return nil, fmt.Errorf("converting YAML event data to JSON: %w", err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("unsupported event content type %q", ct)
	}
}
