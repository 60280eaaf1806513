package object

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
	"github.com/flintevents/flint/triggers"
)

// Target is what a k8s or argoWorkflow trigger acts on, as far as its
// Sensor tells before it fires.
type Target struct {
	// Obj is the source object; nil when the source is read when the trigger fires.
	Obj *unstructured.Unstructured
	// SourceAt names where the object is read from when Obj is nil.
	SourceAt string
	// NamespaceAt, KindAt and OperationAt name the first parameter that sets
	// the object's namespace, its kind, or the operation when the trigger fires.
	NamespaceAt, KindAt, OperationAt string
	// Rights holds the right to read a source kept in a ConfigMap, in the
	// sensor's namespace, and is where the type adds its own.
	Rights triggers.Rights
}

// TargetOf reads the source object src of the trigger of req, of type key,
// and the parameters that change it when it fires: the type's own params
// (dest relative to the object) and the trigger's (dest relative to the
// template). label names the trigger in the rights.
func TargetOf(req triggers.AccessRequest, key string, src *v1alpha1.ArtifactLocation, params []v1alpha1.TriggerParameter, label string) Target {
	var tg Target
	path := req.Path
	at := path + ".template." + key + ".source"
	switch {
	case src == nil:
		tg.SourceAt = at
	case src.Resource != nil:
		tg.Obj, tg.SourceAt = decodeObject(src.Resource.Value, true), at+".resource"
	case src.Inline != nil:
		tg.Obj, tg.SourceAt = decodeObject([]byte(*src.Inline), false), at+".inline"
	case src.Configmap != nil:
		tg.SourceAt = at + ".configmap"
		tg.Grant(triggers.Grant{Namespace: req.Namespace, Resource: "configmaps", Name: src.Configmap.Name,
			Verbs: []string{"get"}, Label: label + " reads its source"})
	case src.URL != nil:
		tg.SourceAt = at + ".url"
	case src.File != nil:
		tg.SourceAt = at + ".file"
	default:
		tg.SourceAt = at
	}
	for j, p := range params {
		tg.objectParameter(p.Dest, fmt.Sprintf("%s.template.%s.parameters[%d].dest", path, key, j))
	}
	for j, p := range req.Trigger.Parameters {
		where := fmt.Sprintf("%s.parameters[%d].dest", path, j)
		d := p.Dest
		if writes(d, key+".operation") && tg.OperationAt == "" {
			tg.OperationAt = where
		}
		switch {
		case strings.HasPrefix(d, key+".source.resource."):
			tg.objectParameter(strings.TrimPrefix(d, key+".source.resource."), where)
		case writes(d, key+".source.resource"), strings.HasPrefix(d, key+".source."):
			// The source itself changes: what it holds is known only when the trigger fires.
			tg.Obj, tg.SourceAt = nil, where
		}
	}
	return tg
}

// Grant adds a right.
func (tg *Target) Grant(g triggers.Grant) { tg.Rights.Grants = append(tg.Rights.Grants, g) }

// Unknownf adds a line saying what only a firing tells.
func (tg *Target) Unknownf(format string, args ...any) {
	tg.Rights.Unknown = append(tg.Rights.Unknown, fmt.Sprintf(format, args...))
}

// objectParameter records where a parameter writing dest of the object
// changes its namespace or kind.
func (tg *Target) objectParameter(dest, where string) {
	if writes(dest, "metadata.namespace") && tg.NamespaceAt == "" {
		tg.NamespaceAt = where
	}
	if (writes(dest, "kind") || writes(dest, "apiVersion")) && tg.KindAt == "" {
		tg.KindAt = where
	}
}

// writes says whether a parameter with destination dest (an sjson path)
// may change the value at field: the field itself, or an object holding it.
func writes(dest, field string) bool {
	return dest == "" || dest == field || strings.HasPrefix(field, dest+".")
}

// decodeObject decodes a source object, JSON or (an inline string) YAML;
// nil when it is no object with an apiVersion and a kind.
func decodeObject(raw []byte, isJSON bool) *unstructured.Unstructured {
	if !isJSON {
		j, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil
		}
		raw = j
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil
	}
	obj := &unstructured.Unstructured{Object: m}
	if _, err := schema.ParseGroupVersion(obj.GetAPIVersion()); err != nil || obj.GetAPIVersion() == "" || obj.GetKind() == "" {
		return nil
	}
	return obj
}

// WaitsForLabels says whether the trigger's policy.k8s reads the object
// again until it has labels.
func WaitsForLabels(t *v1alpha1.Trigger) bool {
	return t.Policy != nil && t.Policy.K8s != nil && len(t.Policy.K8s.Labels) > 0
}

// CallTime is how long the calls of one firing (the read of its source,
// bounded by URLTimeout, and its calls to the API server) are taken to
// take at most.
const CallTime = URLTimeout

// AttemptOf is how long one firing of a k8s or argoWorkflow trigger t of
// type key may take: CallTime and, when its policy.k8s waits for labels, the
// longest that wait may last (every step of its backoff, jitter included).
func AttemptOf(t *v1alpha1.Trigger, key string) triggers.Attempt {
	if !WaitsForLabels(t) {
		return triggers.Attempt{Timeout: CallTime, Field: "template." + key}
	}
	waits := policySchedule(t.Policy.K8s).Longest(0)
	return triggers.Attempt{Timeout: min(CallTime+min(waits, maxAttempt), maxAttempt), Field: "policy.k8s.backoff"}
}

// maxAttempt is where AttemptOf stops counting.
const maxAttempt = time.Hour
