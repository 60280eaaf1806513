package document

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Kind is one apiVersion and kind a Decoder accepts, and the Go type it decodes into.
type Kind struct {
	APIVersion, Kind string
	// New returns a pointer to a new, empty object of the kind.
	New func() metav1.Object
}

// Document is one decoded document.
type Document struct {
	Origin Origin
	// APIVersion and Kind are the document's type.
	APIVersion, Kind string
	// Object is what New of the matching Kind returned, decoded.
	Object metav1.Object
}

// Decoder turns inputs into documents of the kinds it knows; it numbers
// documents across all the inputs of one load so problems sort in input order.
type Decoder struct {
	kinds    []Kind
	expected string
	checker  *schemaChecker
	seq      int
}

// NewDecoder returns a decoder for kinds; expected ends the problem reported
// for any other kind, e.g. "expected Broker or Trigger (eventing.knative.dev/v1)".
func NewDecoder(expected string, kinds ...Kind) *Decoder {
	return &Decoder{kinds: kinds, expected: expected, checker: newSchemaChecker()}
}

// Decode decodes every non-empty document of the inputs, in order. Documents
// with an unknown kind, invalid YAML or fields of the wrong type are left out
// and reported; unknown fields are reported but the document is kept.
func (d *Decoder) Decode(inputs []Input) ([]Document, Problems) {
	var (
		docs     []Document
		problems Problems
	)
	for _, in := range inputs {
		if in.Problem != "" {
			d.seq++
			problems = append(problems, Problem{File: in.Name, Reason: in.Problem, seq: d.seq})
			continue
		}
		ds, ps := d.decodeFile(in.Name, in.Data)
		docs = append(docs, ds...)
		problems = append(problems, ps...)
	}
	return docs, problems
}

type convertedDocument struct {
	json []byte
	err  error
	line int
}

// decodeFile decodes every non-empty document of one file.
func (d *Decoder) decodeFile(name string, data []byte) ([]Document, Problems) {
	raws, err := splitDocuments(data)
	if err != nil {
		d.seq++
		return nil, Problems{{File: name, Reason: err.Error(), seq: d.seq}}
	}
	var converted []convertedDocument
	for _, raw := range raws {
		j, err := yaml.YAMLToJSONStrict(raw.data)
		if err == nil && isEmptyJSON(j) {
			continue
		}
		converted = append(converted, convertedDocument{json: j, err: err, line: raw.line})
	}
	var (
		docs     []Document
		problems Problems
	)
	for i, c := range converted {
		d.seq++
		o := Origin{File: name, Doc: i + 1, Docs: len(converted), seq: d.seq}
		if c.err != nil {
			problems = append(problems, o.Problem("", yamlError(c.err, c.line)))
			continue
		}
		doc, ps := d.decodeDocument(o, c.json)
		problems = append(problems, ps...)
		if doc != nil {
			docs = append(docs, *doc)
		}
	}
	return docs, problems
}

func isEmptyJSON(j []byte) bool {
	t := bytes.TrimSpace(j)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// decodeDocument decodes one document; it returns nil when the document
// cannot be turned into an object (unknown kind, wrong field types).
func (d *Decoder) decodeDocument(o Origin, data []byte) (*Document, Problems) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, Problems{o.Problem("", "invalid document: "+err.Error())}
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, Problems{o.Problem("", "expected a Kubernetes object with apiVersion and kind, got "+jsonKind(raw))}
	}
	apiVersion, ps := typeField(o, m, "apiVersion")
	kind, kps := typeField(o, m, "kind")
	if ps = append(ps, kps...); len(ps) > 0 {
		return nil, ps
	}
	var target metav1.Object
	for _, k := range d.kinds {
		if k.APIVersion == apiVersion && k.Kind == kind {
			target = k.New()
			break
		}
	}
	if target == nil {
		return nil, Problems{o.Problem("kind", fmt.Sprintf("unknown kind %q of apiVersion %q; %s", kind, apiVersion, d.expected))}
	}
	var (
		problems Problems
		fatal    bool
	)
	for _, fp := range d.checker.check(m, reflect.TypeOf(target).Elem()) {
		problems = append(problems, o.Problem(fp.path, fp.reason))
		if !strings.HasPrefix(fp.reason, "unknown field") {
			fatal = true
		}
	}
	if fatal {
		return nil, problems
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, target); err != nil {
		return nil, append(problems, o.Problem("", "invalid document: "+strings.TrimPrefix(err.Error(), "json: ")))
	}
	return &Document{Origin: o, APIVersion: apiVersion, Kind: kind, Object: target}, problems
}

// typeField reads apiVersion or kind, which must be non-empty strings.
func typeField(o Origin, m map[string]any, name string) (string, Problems) {
	v, ok := m[name]
	if !ok || v == nil {
		return "", Problems{o.Problem(name, "missing field(s)")}
	}
	s, ok := v.(string)
	if !ok {
		return "", Problems{o.Problem(name, "expected string, got "+jsonKind(v))}
	}
	if s == "" {
		return "", Problems{o.Problem(name, "missing field(s)")}
	}
	return s, nil
}

// Namespace returns the namespace of obj, "default" when empty.
func Namespace(obj metav1.Object) string {
	if ns := obj.GetNamespace(); ns != "" {
		return ns
	}
	return "default"
}

// DuplicateNames reports every document whose kind, namespace and name an
// earlier document already has.
func DuplicateNames(docs []Document) Problems {
	var problems Problems
	first := map[string]Document{}
	for _, d := range docs {
		name := d.Object.GetName()
		if name == "" {
			continue
		}
		key := d.Kind + "/" + Namespace(d.Object) + "/" + name
		if prev, dup := first[key]; dup {
			problems = append(problems, d.Origin.Problem("metadata.name",
				fmt.Sprintf("duplicate %s %q in namespace %q (also %s)", d.Kind, name, Namespace(d.Object), prev.Origin)))
			continue
		}
		first[key] = d
	}
	return problems
}
