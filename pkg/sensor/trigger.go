package sensor

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
	"golang.org/x/time/rate"
	"knative.dev/pkg/apis"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

// trigger is one compiled trigger of a sensor: its condition, its type's
// built instance, and the parameters, payload and firing policy around it.
type trigger struct {
	name      string
	key       string // the template's type key, e.g. "http"
	namespace string // the sensor's namespace, for types acting on a cluster

	inst     triggers.Instance // nil when the type is not runnable in this build
	resource bool              // the type's `parameters` apply to the object it creates
	// resourceAt is where in the type's spec that object is written inline
	// (a gjson path), for a dry run to apply them to it.
	resourceAt string

	cond      *conditions
	condition string   // the condition as evaluated: every dependency with `&&` when none is written
	deps      []string // the dependencies the condition names
	stateful  bool     // the condition has an `&&`: events wait for each other
	resets    []conditionsReset

	policy  *v1alpha1.TriggerPolicy
	retry   backoff
	limiter *rate.Limiter // nil: no rate limit
	dlq     *trigger      // nil: no dlqTrigger

	depNames map[string]bool // the sensor's dependencies, for lists rewritten by parameters

	tmpl   []byte      // the template as JSON; set only with trigger-level parameters
	params *parameters // trigger-level `parameters`; nil: none
	spec   typeSpec    // the type's spec as written
	// decoded is the typed spec, decoded once at New, when no parameter can
	// change it; nil otherwise.
	decoded any
}

// compiler compiles the triggers of one sensor.
type compiler struct {
	opts        Options
	namespace   string          // the sensor's namespace
	deps        map[string]bool // dependency names
	allDeps     string          // the default condition: every dependency with `&&`
	notRunnable []string
}

// trigger compiles the trigger at path (e.g. `spec.triggers[0]`, used for
// NotRunnable); problem paths are relative to it. dlq is true for a
// dlqTrigger, which fires when its parent failed, whatever its condition.
func (c *compiler) trigger(t *v1alpha1.Trigger, path string, dlq bool) (*trigger, *apis.FieldError) {
	if t.Template == nil {
		return nil, apis.ErrMissingField("template")
	}
	tmpl := t.Template
	out := &trigger{name: tmpl.Name, namespace: c.namespace, depNames: c.deps, policy: t.Policy, retry: newBackoff(t.RetryStrategy), limiter: newLimiter(t.RateLimit)}
	terrs := requireString(tmpl.Name, "name")
	if !dlq {
		var err *apis.FieldError
		out.condition, out.cond, out.stateful, err = c.conditions(tmpl.Conditions)
		terrs = terrs.Also(err)
		if out.cond != nil {
			out.deps = out.cond.dependencies()
		}
	}
	for i, r := range tmpl.ConditionsReset {
		cr, err := newConditionsReset(r, c.opts.Deps.Clock())
		terrs = terrs.Also(err.ViaFieldIndex("conditionsReset", i))
		out.resets = append(out.resets, cr)
	}
	var errs, err *apis.FieldError
	if out.params, err = compileParameters(t.Parameters, c.deps, true); err != nil {
		errs = err.ViaField("parameters")
	}
	keys := tmpl.TypeKeys()
	if len(keys) != 1 {
		got := "none"
		if len(keys) > 1 {
			got = strings.Join(keys, ", ")
		}
		terrs = terrs.Also(apis.ErrGeneric(fmt.Sprintf("expected exactly one of [%s], got %s",
			strings.Join(v1alpha1.TriggerTypeKeys(), ", "), got), apis.CurrentField))
	} else {
		out.key = keys[0]
		terrs = terrs.Also(c.build(out, tmpl, path).ViaField(out.key))
	}
	errs = errs.Also(terrs.ViaField("template"))
	if t.DlqTrigger != nil && !dlq {
		d, err := c.trigger(t.DlqTrigger, path+".dlqTrigger", true)
		errs = errs.Also(err.ViaField("dlqTrigger"))
		out.dlq = d
	}
	if errs != nil {
		return nil, errs
	}
	return out, nil
}

// conditions compiles a template's `conditions` and returns the text it
// evaluates: an empty one requires every dependency of the sensor, as in
// Argo Events. Without an `&&` every satisfying event fires on its own; with
// one, events wait for each other.
func (c *compiler) conditions(expr string) (string, *conditions, bool, *apis.FieldError) {
	text := strings.TrimSpace(expr)
	if text == "" {
		text = c.allDeps
		if text == "" {
			return "", nil, false, nil // no dependency at all: reported on its own
		}
	}
	cond, err := parseConditions(text)
	if err != nil {
		return text, nil, false, apis.ErrInvalidValue(expr, "conditions", err.Error())
	}
	var errs *apis.FieldError
	for _, name := range cond.dependencies() {
		if !c.deps[name] {
			errs = errs.Also(apis.ErrInvalidValue(expr, "conditions", fmt.Sprintf("unknown dependency %q", name)))
		}
	}
	return text, cond, strings.Contains(text, "&&"), errs
}

// build compiles the type's spec and, unless Options.SkipBuild, builds its
// instance from the registry; problem paths are relative to the type key.
func (c *compiler) build(t *trigger, tmpl *v1alpha1.TriggerTemplate, path string) *apis.FieldError {
	doc, err := json.Marshal(tmpl)
	if err != nil {
		return &apis.FieldError{Message: "encoding the template: " + err.Error(), Paths: []string{apis.CurrentField}}
	}
	if t.params != nil || c.opts.SkipBuild {
		t.tmpl = doc // a dry run shows the whole template
	}
	raw := []byte(gjson.GetBytes(doc, t.key).Raw)
	typ, registered := triggers.Lookup(t.key)
	t.resource = registered && typ.ResourceParameters
	t.resourceAt = typ.ResourcePath
	var errs *apis.FieldError
	if t.spec, errs = compileTypeSpec(raw, c.deps); errs != nil || c.opts.SkipBuild {
		return errs
	}
	if !registered {
		if c.opts.AllowNotRunnable {
			c.notRunnable = append(c.notRunnable, path+".template."+t.key)
			return nil
		}
		return &apis.FieldError{
			Message: fmt.Sprintf("not runnable yet: trigger type %q (runnable: %s)", t.key, strings.Join(triggers.Keys(), ", ")),
			Paths:   []string{apis.CurrentField},
		}
	}
	inst, err := typ.Build(raw, c.opts.Deps)
	if err != nil {
		return asFieldError(err)
	}
	t.inst = inst
	if t.params == nil && t.spec.headers == nil && (t.spec.params == nil || t.resource) {
		if t.decoded, err = inst.Decode(raw); err != nil {
			_ = inst.Close()
			t.inst = nil
			return asFieldError(err)
		}
	}
	return nil
}

// asFieldError returns err as a FieldError: itself when it is one, else a
// problem at the current field with err's message.
func asFieldError(err error) *apis.FieldError {
	if fe, ok := err.(*apis.FieldError); ok {
		return fe
	}
	return &apis.FieldError{Message: err.Error(), Paths: []string{apis.CurrentField}}
}

// typeSpec is the spec of a trigger type (the value under its template key)
// and its compiled `parameters`, `dynamicHeaders` and `payload` lists, which
// the engine resolves for every type alike.
type typeSpec struct {
	raw []byte
	// lists is the raw JSON of the three lists, to notice when trigger-level
	// parameters rewrote them.
	lists   string
	params  *parameters // `parameters`, dest relative to the spec
	headers *parameters // `dynamicHeaders`, set into `headers` by header name
	payload *parameters // `payload`
}

// typeSpecLists are the lists every trigger type may have.
type typeSpecLists struct {
	Parameters     []v1alpha1.TriggerParameter `json:"parameters"`
	DynamicHeaders []v1alpha1.TriggerParameter `json:"dynamicHeaders"`
	Payload        []v1alpha1.TriggerParameter `json:"payload"`
}

// listsOf is the raw JSON of a spec's lists, for comparison.
func listsOf(raw []byte) string {
	r := gjson.GetManyBytes(raw, "parameters", "dynamicHeaders", "payload")
	return r[0].Raw + "\x00" + r[1].Raw + "\x00" + r[2].Raw
}

// compileTypeSpec compiles the lists of a type's spec; problem paths are
// relative to the spec (`payload[0].src.dependencyName`).
func compileTypeSpec(raw []byte, deps map[string]bool) (typeSpec, *apis.FieldError) {
	s := typeSpec{raw: raw, lists: listsOf(raw)}
	var lists typeSpecLists
	if err := json.Unmarshal(raw, &lists); err != nil {
		return s, &apis.FieldError{Message: "decoding the trigger spec: " + err.Error(), Paths: []string{apis.CurrentField}}
	}
	var errs, err *apis.FieldError
	if s.params, err = compileParameters(lists.Parameters, deps, true); err != nil {
		errs = errs.Also(err.ViaField("parameters"))
	}
	if s.headers, err = compileParameters(lists.DynamicHeaders, deps, true); err != nil {
		errs = errs.Also(err.ViaField("dynamicHeaders"))
	}
	if s.headers != nil {
		for i := range s.headers.params {
			p := &s.headers.params[i]
			p.dest, p.op, p.text = "headers."+escapePath(p.dest), v1alpha1.TriggerParameterOpNone, true
		}
	}
	if s.payload, err = compileParameters(lists.Payload, deps, false); err != nil {
		errs = errs.Also(err.ViaField("payload"))
	}
	return s, errs
}

// escapePath escapes a name for use as one key of a gjson/sjson path.
func escapePath(name string) string {
	var b strings.Builder
	for _, r := range name {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
