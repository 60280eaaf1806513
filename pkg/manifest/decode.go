package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	eventingv1 "knative.dev/eventing/pkg/apis/eventing/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/flintevents/flint/pkg/apis/v1alpha1"
)

// decoder turns file contents into objects; it numbers documents across all
// the files of one load so problems sort in input order.
type decoder struct {
	checker *schemaChecker
	seq     int
}

func newDecoder() *decoder {
	return &decoder{checker: newSchemaChecker()}
}

type convertedDocument struct {
	json []byte
	err  error
	line int
}

// decodeFile decodes every non-empty document of one file.
func (d *decoder) decodeFile(name string, data []byte) ([]Object, Problems) {
	raws, err := splitDocuments(data)
	if err != nil {
		d.seq++
		return nil, Problems{{File: name, Reason: err.Error(), seq: d.seq}}
	}
	var docs []convertedDocument
	for _, raw := range raws {
		j, err := yaml.YAMLToJSONStrict(raw.data)
		if err == nil && isEmptyJSON(j) {
			continue
		}
		docs = append(docs, convertedDocument{json: j, err: err, line: raw.line})
	}
	var (
		objs     []Object
		problems Problems
	)
	for i, doc := range docs {
		d.seq++
		o := Origin{File: name, Doc: i + 1, Docs: len(docs), seq: d.seq}
		if doc.err != nil {
			problems = append(problems, o.problem("", yamlError(doc.err, doc.line)))
			continue
		}
		obj, ps := d.decodeDocument(o, doc.json)
		problems = append(problems, ps...)
		if obj != nil {
			objs = append(objs, *obj)
		}
	}
	return objs, problems
}

func isEmptyJSON(j []byte) bool {
	t := bytes.TrimSpace(j)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

const expectedKinds = "expected EventSource or Sensor (argoproj.io/v1alpha1), Broker or Trigger (eventing.knative.dev/v1)"

// decodeDocument decodes one document; it returns nil when the document
// cannot be turned into an object (unknown kind, wrong field types).
func (d *decoder) decodeDocument(o Origin, data []byte) (*Object, Problems) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, Problems{o.problem("", "invalid document: "+err.Error())}
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, Problems{o.problem("", "expected a Kubernetes object with apiVersion and kind, got "+jsonKind(raw))}
	}
	apiVersion, ps := typeField(o, m, "apiVersion")
	kind, kps := typeField(o, m, "kind")
	if ps = append(ps, kps...); len(ps) > 0 {
		return nil, ps
	}
	obj := &Object{Origin: o, APIVersion: apiVersion, Kind: kind}
	var target any
	switch {
	case apiVersion == v1alpha1.APIVersion && kind == v1alpha1.KindEventSource:
		obj.EventSource = &v1alpha1.EventSource{}
		target = obj.EventSource
	case apiVersion == v1alpha1.APIVersion && kind == v1alpha1.KindSensor:
		obj.Sensor = &v1alpha1.Sensor{}
		target = obj.Sensor
	case apiVersion == KnativeEventingAPIVersion && kind == KindBroker:
		obj.Broker = &eventingv1.Broker{}
		target = obj.Broker
	case apiVersion == KnativeEventingAPIVersion && kind == KindTrigger:
		obj.Trigger = &eventingv1.Trigger{}
		target = obj.Trigger
	default:
		return nil, Problems{o.problem("kind", fmt.Sprintf("unknown kind %q of apiVersion %q; %s", kind, apiVersion, expectedKinds))}
	}
	var (
		problems Problems
		fatal    bool
	)
	for _, fp := range d.checker.check(m, reflect.TypeOf(target).Elem()) {
		problems = append(problems, o.problem(fp.path, fp.reason))
		if !strings.HasPrefix(fp.reason, "unknown field") {
			fatal = true
		}
	}
	if fatal {
		return nil, problems
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, target); err != nil {
		return nil, append(problems, o.problem("", "invalid document: "+strings.TrimPrefix(err.Error(), "json: ")))
	}
	return obj, problems
}

// typeField reads apiVersion or kind, which must be non-empty strings.
func typeField(o Origin, m map[string]any, name string) (string, Problems) {
	v, ok := m[name]
	if !ok || v == nil {
		return "", Problems{o.problem(name, "missing field(s)")}
	}
	s, ok := v.(string)
	if !ok {
		return "", Problems{o.problem(name, "expected string, got "+jsonKind(v))}
	}
	if s == "" {
		return "", Problems{o.problem(name, "missing field(s)")}
	}
	return s, nil
}
