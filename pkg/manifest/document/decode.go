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

// Options change what a Decoder accepts.
type Options struct {
	// Strict reports unknown fields as problems. Otherwise they are
	// warnings and the document is kept, as a cluster that prunes unknown
	// fields would keep it.
	Strict bool
	// SkipOtherKinds skips documents of kinds the decoder does not read
	// (a WorkflowTemplate, a ConfigMap) instead of reporting them. A kind
	// that is a near miss of a known kind of the same API group ("Sensr",
	// or Sensor of another version) is still a problem.
	SkipOtherKinds bool
}

// Skipped is a document of a kind the decoder does not read.
type Skipped struct {
	Origin Origin
	// APIVersion, Kind and Name are the document's type and metadata.name.
	APIVersion, Kind, Name string
	// Object is the document as JSON values (integers as int64), for a
	// caller that copies it.
	Object map[string]any
}

// Note says that the document was skipped, for the CLI to print.
func (s Skipped) Note() string {
	return fmt.Sprintf("%s: %s %s %q is not read by flint; skipped", s.Origin, s.Kind, s.APIVersion, s.Name)
}

// Result is what a Decoder read from its inputs, in input order.
type Result struct {
	// Documents are the documents that decoded.
	Documents []Document
	// Problems are what kept a document out (unknown kind, invalid YAML,
	// a field of the wrong type) and, with Strict, unknown fields.
	Problems Problems
	// Warnings are the unknown fields of the documents kept, when not Strict.
	Warnings Problems
	// Skipped are the documents of other kinds, with SkipOtherKinds.
	Skipped []Skipped
}

// Decoder turns inputs into documents of the kinds it knows; it numbers
// documents across all the inputs of one load so problems sort in input order.
type Decoder struct {
	kinds    []Kind
	expected string
	opts     Options
	checker  *schemaChecker
	seq      int
}

// NewDecoder returns a decoder for kinds; expected ends the problem reported
// for any other kind, e.g. "expected Broker or Trigger (eventing.knative.dev/v1)".
func NewDecoder(expected string, opts Options, kinds ...Kind) *Decoder {
	return &Decoder{kinds: kinds, expected: expected, opts: opts, checker: newSchemaChecker()}
}

// Decode decodes every non-empty document of the inputs, in order. Documents
// with an unknown kind, invalid YAML or fields of the wrong type are left out
// and reported; unknown fields are reported (as warnings unless Strict) but
// the document is kept.
func (d *Decoder) Decode(inputs []Input) Result {
	var r Result
	for _, in := range inputs {
		if in.Problem != "" {
			d.seq++
			r.Problems = append(r.Problems, Problem{File: in.Name, Reason: in.Problem, seq: d.seq})
			continue
		}
		d.decodeFile(&r, in.Name, in.Data)
	}
	return r
}

type convertedDocument struct {
	json []byte
	err  error
	line int
}

// decodeFile decodes every non-empty document of one file into r.
func (d *Decoder) decodeFile(r *Result, name string, data []byte) {
	raws, err := splitDocuments(data)
	if err != nil {
		d.seq++
		r.Problems = append(r.Problems, Problem{File: name, Reason: err.Error(), seq: d.seq})
		return
	}
	var converted []convertedDocument
	for _, raw := range raws {
		j, err := yaml.YAMLToJSONStrict(raw.data)
		if err == nil && isEmptyJSON(j) {
			continue
		}
		converted = append(converted, convertedDocument{json: j, err: err, line: raw.line})
	}
	for i, c := range converted {
		d.seq++
		o := Origin{File: name, Doc: i + 1, Docs: len(converted), seq: d.seq}
		if c.err != nil {
			r.Problems = append(r.Problems, o.Problem("", yamlError(c.err, c.line)))
			continue
		}
		d.decodeDocument(r, o, c.json)
	}
}

func isEmptyJSON(j []byte) bool {
	t := bytes.TrimSpace(j)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// decodeDocument decodes one document into r; a document that cannot be
// turned into an object (unknown kind, wrong field types) is left out.
func (d *Decoder) decodeDocument(r *Result, o Origin, data []byte) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		r.Problems = append(r.Problems, o.Problem("", "invalid document: "+err.Error()))
		return
	}
	m, ok := raw.(map[string]any)
	if !ok {
		r.Problems = append(r.Problems, o.Problem("", "expected a Kubernetes object with apiVersion and kind, got "+jsonKind(raw)))
		return
	}
	apiVersion, ps := typeField(o, m, "apiVersion")
	kind, kps := typeField(o, m, "kind")
	if ps = append(ps, kps...); len(ps) > 0 {
		r.Problems = append(r.Problems, ps...)
		return
	}
	var target metav1.Object
	for _, k := range d.kinds {
		if k.APIVersion == apiVersion && k.Kind == kind {
			target = k.New()
			break
		}
	}
	if target == nil {
		d.otherKind(r, o, data, apiVersion, kind)
		return
	}
	var fatal bool
	for _, fp := range d.checker.check(m, reflect.TypeOf(target).Elem()) {
		switch {
		case fp.unknown && !d.opts.Strict:
			r.Warnings = append(r.Warnings, o.Problem(fp.path, fp.reason))
		case fp.unknown:
			r.Problems = append(r.Problems, o.Problem(fp.path, fp.reason))
		default:
			r.Problems = append(r.Problems, o.Problem(fp.path, fp.reason))
			fatal = true
		}
	}
	if fatal {
		return
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, target); err != nil {
		r.Problems = append(r.Problems, o.Problem("", "invalid document: "+strings.TrimPrefix(err.Error(), "json: ")))
		return
	}
	r.Documents = append(r.Documents, Document{Origin: o, APIVersion: apiVersion, Kind: kind, Object: target})
}

// otherKind skips or reports a document of a kind the decoder does not read.
func (d *Decoder) otherKind(r *Result, o Origin, data []byte, apiVersion, kind string) {
	reason := fmt.Sprintf("unknown kind %q of apiVersion %q; %s", kind, apiVersion, d.expected)
	if !d.opts.SkipOtherKinds {
		r.Problems = append(r.Problems, o.Problem("kind", reason))
		return
	}
	group, _, _ := strings.Cut(apiVersion, "/")
	var near []string
	for _, k := range d.kinds {
		if g, _, _ := strings.Cut(k.APIVersion, "/"); g != group {
			continue
		}
		if k.Kind == kind {
			r.Problems = append(r.Problems, o.Problem("apiVersion",
				fmt.Sprintf("unsupported apiVersion %q of kind %s; expected %s", apiVersion, kind, k.APIVersion)))
			return
		}
		near = append(near, k.Kind)
	}
	if best := DidYouMean(kind, near); best != "" {
		r.Problems = append(r.Problems, o.Problem("kind", fmt.Sprintf("%s; did you mean %q?", reason, best)))
		return
	}
	var obj map[string]any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &obj); err != nil {
		r.Problems = append(r.Problems, o.Problem("", "invalid document: "+strings.TrimPrefix(err.Error(), "json: ")))
		return
	}
	var name string
	if meta, ok := obj["metadata"].(map[string]any); ok {
		name, _ = meta["name"].(string)
	}
	r.Skipped = append(r.Skipped, Skipped{Origin: o, APIVersion: apiVersion, Kind: kind, Name: name, Object: obj})
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
